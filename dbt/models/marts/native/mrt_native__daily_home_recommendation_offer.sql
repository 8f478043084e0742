-- Offers shown by the home page's recommendation module, one row per (recommendation call, offer),
-- with what the user did with each: the first consultation of it from that call, then the first
-- favourite and booking of it in the same session (after the consultation).
-- Incremental by display day; the events read start a day earlier and the look-back re-reads a
-- display day once the next day's events (a session past midnight) have arrived.
{{ config(**incremental_by_day("module_displayed_date")) }}

with
    call_session as (
        select reco_call_id, any_value(session_id) as session_id
        from {{ ref("int_firebase__event") }}
        where
            event_name = 'ModuleDisplayedOnHomePage'
            and reco_call_id is not null
            and {{ in_run_days("event_date", extra_days=1) }}
        group by reco_call_id
    ),

    consulted as (
        select reco_call_id, offer_id, min(event_timestamp) as consult_offer_timestamp
        from {{ ref("int_firebase__event") }}
        where
            event_name = 'ConsultOffer'
            and reco_call_id is not null
            and {{ in_run_days("event_date", extra_days=1) }}
        group by reco_call_id, offer_id
    ),

    followed as (
        select
            c.reco_call_id,
            c.offer_id,
            min(
                case when e.event_name = 'HasAddedOfferToFavorites' then e.event_timestamp end
            ) as fav_timestamp,
            min(
                case when e.event_name = 'BookingConfirmation' then e.event_timestamp end
            ) as booking_timestamp
        from consulted as c
        inner join call_session as s on c.reco_call_id = s.reco_call_id
        inner join
            {{ ref("int_firebase__event") }} as e
            on e.session_id = s.session_id
            and e.offer_id = c.offer_id
            and e.event_name in ('HasAddedOfferToFavorites', 'BookingConfirmation')
            and e.event_timestamp >= c.consult_offer_timestamp
            and {{ in_run_days("e.event_date", extra_days=1) }}
        group by c.reco_call_id, c.offer_id
    )

select
    {{ composite_key(["d.call_id", "d.offer_id"]) }} as home_recommendation_offer_id,
    d.display_date as module_displayed_date,
    d.displayed_at as module_displayed_timestamp,
    d.call_id as reco_call_id,
    d.model_version,
    d.context,
    d.user_id,
    s.session_id,
    d.offer_id,
    d.position as offer_display_order,
    c.consult_offer_timestamp,
    f.fav_timestamp,
    f.booking_timestamp,
    c.consult_offer_timestamp is not null as is_consulted,
    f.booking_timestamp is not null as is_booked
from {{ ref("int_applicative__reco_display") }} as d
left join call_session as s on d.call_id = s.reco_call_id
left join consulted as c on d.call_id = c.reco_call_id and d.offer_id = c.offer_id
left join followed as f on d.call_id = f.reco_call_id and d.offer_id = f.offer_id
where d.context = 'home' and {{ in_run_days("d.display_date") }}
