{{ config(cluster_by=bq_cluster(['offer_category_id', 'venue_department_code'])) }}

with
    bookings as (
        select
            offer_id,
            count(case when not booking_is_cancelled then 1 end) as booking_count,
            count(case when booking_is_cancelled then 1 end) as cancelled_booking_count,
            sum(
                case when not booking_is_cancelled then booking_intermediary_amount else 0 end
            ) as booking_amount,
            max(booking_created_at) as last_booking_at
        from {{ ref('int_applicative__booking') }}
        group by offer_id
    ),

    favorites as (
        select offer_id, count(*) as favorite_count
        from {{ ref('int_applicative__favorite') }}
        group by offer_id
    )

select
    o.offer_id,
    o.offer_humanized_id,
    o.item_id,
    o.offer_product_id,
    o.venue_id,
    v.offerer_id,
    o.offer_name,
    o.offer_description,
    o.offer_subcategory_id,
    o.offer_category_id,
    o.search_group_name,
    o.offer_is_event,
    o.offer_is_digital,
    o.offer_is_underage_recommendable,
    o.offer_is_duo,
    o.offer_is_active,
    o.offer_validation,
    o.offer_is_bookable,
    o.offer_ean,
    o.offer_author,
    o.offer_performer,
    o.offer_created_at,
    o.offer_creation_date,
    o.offer_updated_date,
    o.offer_publication_date,
    o.stock_count,
    o.bookable_stock_count,
    o.offer_min_price,
    o.offer_max_price,
    o.offer_bookable_min_price,
    o.next_stock_beginning_date,
    v.venue_name,
    v.venue_type_code,
    v.venue_department_code,
    v.venue_latitude,
    v.venue_longitude,
    coalesce(b.booking_count, 0) as booking_count,
    coalesce(b.cancelled_booking_count, 0) as cancelled_booking_count,
    coalesce(b.booking_amount, 0) as booking_amount,
    b.last_booking_at,
    coalesce(f.favorite_count, 0) as favorite_count
from {{ ref('int_applicative__offer') }} as o
left join {{ ref('int_applicative__venue') }} as v on o.venue_id = v.venue_id
left join bookings as b on o.offer_id = b.offer_id
left join favorites as f on o.offer_id = f.offer_id
