-- Offers displayed on the home page per day, with the display's position band and the
-- consultations those displays led to (a consultation of the offer from the same recommendation
-- call), with the offer's taxonomy, venue and structure.
{{ config(**incremental_by_day("event_date")) }}

with
    displays as (
        select
            module_displayed_date as event_date,
            offer_id,
            offer_display_order,
            case
                when offer_display_order < 4 then 'position_0_3' else 'position_4_plus'
            end as position_band,
            is_consulted
        from {{ ref("mrt_native__daily_home_recommendation_offer") }}
        where {{ in_run_days("module_displayed_date") }}
    )

select
    {{ composite_key(["d.event_date", "d.offer_id"]) }} as home_offer_day_id,
    d.event_date,
    d.offer_id,
    any_value(o.offer_subcategory_id) as offer_subcategory_id,
    any_value(o.offer_category_id) as offer_category_id,
    any_value(o.venue_id) as venue_id,
    any_value(v.offerer_id) as offerer_id,
    count(*) as total_displays,
    count(case when d.position_band = 'position_0_3' then 1 end) as total_position_0_3_displays,
    count(
        case when d.position_band = 'position_4_plus' then 1 end
    ) as total_position_4_plus_displays,
    count(case when d.is_consulted then 1 end) as total_consultations,
    count(
        case when d.is_consulted and d.position_band = 'position_0_3' then 1 end
    ) as total_position_0_3_consultations,
    count(
        case when d.is_consulted and d.position_band = 'position_4_plus' then 1 end
    ) as total_position_4_plus_consultations
from displays as d
left join {{ ref("int_applicative__offer") }} as o on d.offer_id = o.offer_id
left join {{ ref("int_applicative__venue") }} as v on o.venue_id = v.venue_id
group by d.event_date, d.offer_id
