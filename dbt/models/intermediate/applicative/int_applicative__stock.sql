-- Current state of stocks: remaining quantity (null = unlimited) and whether a user can book it
-- now.
with
    booked as (
        select stock_id, {{ as_int('sum(booking_quantity)') }} as booked_quantity
        from {{ ref('int_applicative__booking_base') }}
        where not booking_is_cancelled
        group by stock_id
    ),

    stock as (
        select
            {{ as_id('s.stock_id') }} as stock_id,
            {{ as_id('s.offer_id') }} as offer_id,
            {{ as_float('s.stock_price') }} as stock_price,
            {{ as_int('s.stock_quantity') }} as stock_quantity,
            {{ as_ts('s.stock_beginning_date') }} as stock_beginning_date,
            {{ as_ts('s.stock_booking_limit_date') }} as stock_booking_limit_date,
            {{ as_ts('s.stock_creation_date') }} as stock_creation_date,
            {{ as_ts('s.stock_modified_date') }} as stock_modified_date,
            coalesce({{ as_bool('s.stock_is_soft_deleted') }}, false) as stock_is_soft_deleted,
            {{ as_id('s.price_category_id') }} as price_category_id
        from {{ source('raw', 'applicative_database_stock') }} as s
    )

select
    stock.*,
    coalesce(booked.booked_quantity, 0) as stock_booked_quantity,
    case
        when stock.stock_quantity is null
        then null
        else greatest(stock.stock_quantity - coalesce(booked.booked_quantity, 0), 0)
    end as stock_remaining_quantity,
    (
        not stock.stock_is_soft_deleted
        and (
            stock.stock_quantity is null
            or stock.stock_quantity > coalesce(booked.booked_quantity, 0)
        )
        and (
            stock.stock_booking_limit_date is null
            or {{ as_date('stock.stock_booking_limit_date') }} >= {{ as_of_date() }}
        )
        and (
            stock.stock_beginning_date is null
            or {{ as_date('stock.stock_beginning_date') }} >= {{ as_of_date() }}
        )
    ) as stock_is_bookable
from stock
left join booked on stock.stock_id = booked.stock_id
