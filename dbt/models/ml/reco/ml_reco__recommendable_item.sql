-- Items a user can be recommended now: one row per item with at least one bookable offer,
-- described by
-- a representative bookable offer (most booked, then cheapest, then lowest id) and the item's
-- bookings.
-- venue_radius_km: how far from its venue a physical offer is recommended (the retrieval `$geo`
-- filter without a radius): every physical offer gets var('recommendable_venue_radius_km').
-- "Last 7 days" is relative to the latest booking in the data (today in production, the sandbox's
-- last day locally). booking_trend = (last 7 days - the 7 days before) / max(the 7 days before, 1).
{{ config(cluster_by=bq_cluster(['category_id', 'subcategory_id'])) }}

with
    bounds as (
        select max(booking_creation_date) as max_booking_date
        from {{ ref('int_applicative__booking') }}
    ),

    item_bookings as (
        select
            b.item_id,
            count(*) as booking_count,
            count(
                case
                    when b.booking_creation_date > {{ add_days('bounds.max_booking_date', -7) }}
                    then 1
                end
            ) as booking_count_last_7_days,
            count(
                case
                    when
                        b.booking_creation_date > {{ add_days('bounds.max_booking_date', -14) }}
                        and b.booking_creation_date <= {{ add_days('bounds.max_booking_date', -7) }}
                    then 1
                end
            ) as booking_count_previous_7_days
        from {{ ref('int_applicative__booking') }} as b
        cross join bounds
        where not b.booking_is_cancelled and b.item_id is not null
        group by b.item_id
    ),

    representative as (
        select *
        from
            (
                select
                    o.*,
                    row_number() over (
                        partition by o.item_id
                        order by o.booking_count desc, o.offer_bookable_min_price, o.offer_id
                    ) as rn
                from {{ ref('mrt_global__offer') }} as o
                where o.offer_is_bookable
            ) as ranked
        where rn = 1
    )

select
    r.item_id,
    r.offer_id,
    r.offer_name,
    r.offer_category_id as category_id,
    r.offer_subcategory_id as subcategory_id,
    r.search_group_name,
    {{ as_float('r.offer_bookable_min_price') }} as price,
    r.offer_is_underage_recommendable as is_underage_recommendable,
    r.offer_is_digital as is_digital,
    r.offer_is_event as is_event,
    case when r.offer_is_digital then null else r.venue_latitude end as venue_latitude,
    case when r.offer_is_digital then null else r.venue_longitude end as venue_longitude,
    case
        when r.offer_is_digital then null else {{ as_float(var('recommendable_venue_radius_km')) }}
    end as venue_radius_km,
    r.venue_department_code,
    coalesce(ib.booking_count, 0) as booking_count,
    coalesce(ib.booking_count_last_7_days, 0) as booking_count_last_7_days,
    {{ as_float(
        'coalesce(ib.booking_count_last_7_days, 0) - coalesce(ib.booking_count_previous_7_days, 0)'
    ) }} / greatest(coalesce(ib.booking_count_previous_7_days, 0), 1) as booking_trend,
    r.next_stock_beginning_date as stock_beginning_date,
    r.offer_creation_date
from representative as r
left join item_bookings as ib on r.item_id = ib.item_id
