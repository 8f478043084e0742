-- Home page interactions, one row per event: module displays, clicks (offer consultations from the
-- home) and what followed a click (favourite, booking of the clicked offer in the same session).
-- Events carry no Contentful module id: a module is known by its kind, `recommendation` when the
-- event carries the recommendation call that filled it, `other` for the editorial playlists.
-- Incremental by day (macros/incremental.sql).
{{ config(**incremental_by_day("event_date")) }}

with
    home as (
        select
            event_date,
            event_timestamp,
            event_name,
            user_id,
            user_pseudo_id,
            session_id,
            platform,
            offer_id,
            reco_call_id,
            case
                when reco_call_id is not null then 'recommendation' else 'other'
            end as home_module_type
        from {{ ref("int_firebase__event") }}
        where
            origin = 'home'
            and {{ in_run_days("event_date") }}
            and event_name in (
                'ModuleDisplayedOnHomePage',
                'ConsultOffer',
                'HasAddedOfferToFavorites',
                'BookingConfirmation'
            )
    )

select
    event_date,
    event_timestamp,
    event_name,
    user_id,
    user_pseudo_id,
    session_id,
    platform,
    offer_id,
    reco_call_id,
    home_module_type,
    case
        when event_name = 'ModuleDisplayedOnHomePage'
        then 'display'
        when event_name = 'ConsultOffer'
        then 'click'
        when event_name = 'HasAddedOfferToFavorites'
        then 'favorite'
        else 'booking'
    end as interaction_type
from home
