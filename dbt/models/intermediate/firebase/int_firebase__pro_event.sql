-- Pro portal events with clean types, the page's name without the site suffix, the session's key
-- (the analytics session id is unique per device only) and the portal feature the event belongs to.
-- Incremental by day (macros/incremental.sql): a run rewrites the days it touches, late events
-- included.
{{ config(**incremental_by_day('event_date', cluster_by=['event_name'])) }}

with
    events as (
        select
            {{ as_date('event_date') }} as event_date,
            {{ as_ts('event_timestamp') }} as event_timestamp,
            cast(event_name as {{ dbt.type_string() }}) as event_name,
            {{ as_id('user_id') }} as user_id,
            cast(user_pseudo_id as {{ dbt.type_string() }}) as user_pseudo_id,
            cast(session_id as {{ dbt.type_string() }}) as session_id,
            {{ composite_key(['user_pseudo_id', 'session_id']) }} as unique_session_id,
            {{ as_int('session_number') }} as session_number,
            replace(
                cast(page_title as {{ dbt.type_string() }}), ' - pass Culture Pro', ''
            ) as page_name,
            cast(page_location as {{ dbt.type_string() }}) as page_location,
            cast(page_referrer as {{ dbt.type_string() }}) as page_referrer,
            cast(origin as {{ dbt.type_string() }}) as origin,
            {{ as_id('offerer_id') }} as offerer_id,
            {{ as_id('venue_id') }} as venue_id,
            {{ as_id('offer_id') }} as offer_id,
            cast(download_format as {{ dbt.type_string() }}) as download_format,
            cast(traffic_source as {{ dbt.type_string() }}) as traffic_source,
            cast(traffic_medium as {{ dbt.type_string() }}) as traffic_medium,
            cast(traffic_campaign as {{ dbt.type_string() }}) as traffic_campaign,
            cast(user_device_category as {{ dbt.type_string() }}) as user_device_category,
            cast(user_web_browser as {{ dbt.type_string() }}) as user_web_browser
        from {{ source('raw', 'firebase_pro_events') }}
        where {{ in_run_days('event_date') }}
    )

select
    events.*,
    case
        when event_name = 'hasClickedDownloadBooking'
        then 'booking_download'
        when event_name = 'hasClickedOffer' or page_name = 'Consulter une offre individuelle'
        then 'offer_consultation'
        when page_name in ('Créer une offre', 'Confirmation - Offre individuelle publiée')
        then 'offer_creation'
        when page_name = 'Modifier une offre individuelle'
        then 'offer_edition'
        when page_name in ('Réservations individuelles', 'Réservations collectives')
        then 'booking_management'
        when page_name = 'Guichet'
        then 'ticket_office'
        when page_name in ('Justificatifs', 'Informations bancaires')
        then 'finance'
        when page_name = 'Statistiques'
        then 'statistics'
        when page_name = 'Collaborateurs'
        then 'collaborators'
        when page_name in ('Offres individuelles', 'Offres collectives')
        then 'offer_catalogue'
        when page_name = 'Partenaire culturel'
        then 'partner_page'
    end as feature
from events
