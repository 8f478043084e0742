-- The app's `recommendable_offers_raw` table: every offer bookable now, with what the
-- recommendation filters read (position and reach, category, price, underage rule) and its
-- bookings. default_max_distance: how far (metres) from its venue a physical offer is recommended.
select
    o.offer_id,
    o.item_id,
    {{ as_ts("o.offer_creation_date") }} as offer_creation_date,
    {{ as_ts("o.next_stock_beginning_date") }} as stock_beginning_date,
    {{ as_int("coalesce(o.booking_count, 0)") }} as booking_number,
    o.venue_id,
    case
        when o.offer_is_digital then null else {{ as_float("o.venue_latitude") }}
    end as venue_latitude,
    case
        when o.offer_is_digital then null else {{ as_float("o.venue_longitude") }}
    end as venue_longitude,
    case
        when o.offer_is_digital
        then null
        else {{ as_int(var("recommendable_venue_radius_km") ~ " * 1000") }}
    end as default_max_distance,
    {{ dbt.concat(["o.item_id", "'-'", "o.offer_id"]) }} as unique_id,
    o.offer_category_id as category,
    o.offer_subcategory_id as subcategory_id,
    {{ as_float("o.offer_bookable_min_price") }} as stock_price,
    o.offer_is_underage_recommendable as is_underage_recommendable,
    not o.offer_is_digital and o.venue_latitude is not null as is_geolocated
from {{ ref("mrt_global__offer") }} as o
where o.offer_is_bookable
