-- Stocks (prices, quantities, event dates) with their offer, venue and bookings.
{{ config(cluster_by=bq_cluster(["offer_category_id"])) }}

with
    bookings as (
        select
            stock_id,
            count(case when not booking_is_cancelled then 1 end) as booking_count,
            count(case when booking_is_cancelled then 1 end) as cancelled_booking_count,
            coalesce(
                sum(case when not booking_is_cancelled then booking_intermediary_amount end), 0
            ) as booking_amount
        from {{ ref("int_applicative__booking_base") }}
        group by stock_id
    )

select
    s.stock_id,
    s.offer_id,
    o.venue_id,
    o.item_id,
    o.offer_category_id,
    o.offer_subcategory_id,
    s.stock_price,
    s.stock_quantity,
    s.stock_booked_quantity,
    s.stock_remaining_quantity,
    s.stock_beginning_date,
    s.stock_booking_limit_date,
    s.stock_creation_date,
    s.stock_modified_date,
    s.stock_is_soft_deleted,
    s.stock_is_bookable,
    s.price_category_id,
    coalesce(b.booking_count, 0) as booking_count,
    coalesce(b.cancelled_booking_count, 0) as cancelled_booking_count,
    coalesce(b.booking_amount, 0) as booking_amount
from {{ ref("int_applicative__stock") }} as s
left join {{ ref("int_applicative__offer") }} as o on s.offer_id = o.offer_id
left join bookings as b on s.stock_id = b.stock_id
