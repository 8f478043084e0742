-- Per venue and month: offers created, and offers bookable during the month (active, approved
-- offer created by the month's end with a live stock: not deleted, created by the month's end, and
-- for events a beginning date in or after the month).
with
    months as (
        select distinct {{ month_start("offer_creation_date") }} as activity_month
        from {{ ref("int_applicative__offer") }}
        union distinct
        select distinct {{ month_start("booking_creation_date") }} as activity_month
        from {{ ref("int_applicative__booking_base") }}
    ),

    created as (
        select
            venue_id,
            {{ month_start("offer_creation_date") }} as activity_month,
            count(*) as offer_created_count
        from {{ ref("int_applicative__offer") }}
        group by 1, 2
    ),

    live_stock as (
        select
            o.venue_id,
            o.offer_id,
            s.stock_creation_date,
            s.stock_beginning_date,
            o.offer_created_at
        from {{ ref("int_applicative__offer") }} as o
        inner join {{ ref("int_applicative__stock") }} as s on o.offer_id = s.offer_id
        where o.offer_is_active and o.offer_validation = 'APPROVED' and not s.stock_is_soft_deleted
    ),

    bookable as (
        select
            live_stock.venue_id,
            months.activity_month,
            count(distinct live_stock.offer_id) as bookable_offer_count
        from live_stock
        inner join
            months
            on {{ month_start("live_stock.offer_created_at") }} <= months.activity_month
            and {{ month_start("live_stock.stock_creation_date") }} <= months.activity_month
            and (
                live_stock.stock_beginning_date is null
                or {{ month_start("live_stock.stock_beginning_date") }} >= months.activity_month
            )
        group by 1, 2
    )

select
    coalesce(created.venue_id, bookable.venue_id) as venue_id,
    coalesce(created.activity_month, bookable.activity_month) as activity_month,
    coalesce(created.offer_created_count, 0) as offer_created_count,
    coalesce(bookable.bookable_offer_count, 0) as bookable_offer_count
from created
full outer join
    bookable
    on created.venue_id = bookable.venue_id
    and created.activity_month = bookable.activity_month
