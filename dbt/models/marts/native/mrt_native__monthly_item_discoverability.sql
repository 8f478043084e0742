-- Per item and month: how much of it was bookable (offers bookable at least one day, days with at
-- least one bookable offer) and how often it was consulted, by discovery channel. An offer counts
-- as
-- bookable from its creation until it is deactivated or its last event has begun.
-- Incremental by month: a run rebuilds the months of its days (look-back included), the months
-- before are kept as they were computed.
{{ config(**incremental_by_day("month", granularity="month")) }}

with
    days as (
        select distinct event_date as day
        from {{ ref("mrt_native__event") }}
        where {{ in_run_months("event_date") }}
    ),

    offers as (
        select
            offer_id,
            item_id,
            offer_subcategory_id,
            offer_category_id,
            offer_creation_date as bookable_from,
            least(
                coalesce(
                    case when not offer_is_active then {{ as_date("offer_updated_date") }} end,
                    {{ as_of_date() }}
                ),
                coalesce({{ as_date("last_stock_beginning_date") }}, {{ as_of_date() }})
            ) as bookable_to
        from {{ ref("int_applicative__offer") }}
        where item_id is not null
    ),

    bookable as (
        select
            {{ month_start("d.day") }} as month,
            o.item_id,
            any_value(o.offer_subcategory_id) as offer_subcategory_id,
            any_value(o.offer_category_id) as offer_category_id,
            count(distinct o.offer_id) as nb_bookable_offers,
            count(distinct d.day) as nb_bookable_days
        from offers as o
        inner join days as d on d.day >= o.bookable_from and d.day <= o.bookable_to
        group by 1, 2
    ),

    consults as (
        select
            {{ month_start("event_date") }} as month,
            item_id,
            any_value(offer_subcategory_id) as offer_subcategory_id,
            any_value(offer_category_id) as offer_category_id,
            count(*) as nb_monthly_consult,
            count(case when origin = 'search' then 1 end) as nb_monthly_search_consult,
            count(case when origin = 'home' then 1 end) as nb_monthly_home_consult,
            count(case when origin in ('venue', 'venueMap') then 1 end) as nb_monthly_venue_consult,
            count(
                case when origin = 'similar_offers' then 1 end
            ) as nb_monthly_similar_offer_consult,
            count(
                case
                    when
                        origin is null
                        or origin not in ('search', 'home', 'venue', 'venueMap', 'similar_offers')
                    then 1
                end
            ) as nb_monthly_other_channel_consult
        from {{ ref("mrt_native__event") }}
        where
            event_name = 'ConsultOffer'
            and item_id is not null
            and {{ in_run_months("event_date") }}
        group by 1, 2
    )

select
    {{ composite_key(["coalesce(b.month, c.month)", "coalesce(b.item_id, c.item_id)"]) }}
    as item_month_id,
    coalesce(b.month, c.month) as month,
    coalesce(b.item_id, c.item_id) as item_id,
    coalesce(b.offer_subcategory_id, c.offer_subcategory_id) as offer_subcategory_id,
    coalesce(b.offer_category_id, c.offer_category_id) as offer_category_id,
    coalesce(b.nb_bookable_offers, 0) as nb_bookable_offers,
    coalesce(b.nb_bookable_days, 0) as nb_bookable_days,
    coalesce(c.nb_monthly_consult, 0) as nb_monthly_consult,
    coalesce(c.nb_monthly_search_consult, 0) as nb_monthly_search_consult,
    coalesce(c.nb_monthly_home_consult, 0) as nb_monthly_home_consult,
    coalesce(c.nb_monthly_venue_consult, 0) as nb_monthly_venue_consult,
    coalesce(c.nb_monthly_similar_offer_consult, 0) as nb_monthly_similar_offer_consult,
    coalesce(c.nb_monthly_other_channel_consult, 0) as nb_monthly_other_channel_consult
from bookable as b
full outer join consults as c on b.month = c.month and b.item_id = c.item_id
