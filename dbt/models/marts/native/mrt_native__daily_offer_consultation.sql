-- Offer consultations per day, offer, origin and the consulting user's status at that moment
-- (beneficiary: a credit open; registered; logged out), with the offer's venue and structure.
{{ config(**incremental_by_day("event_date")) }}

with
    consultations as (
        select
            e.event_id,
            e.event_date,
            e.event_timestamp,
            e.offer_id,
            e.venue_id,
            e.offerer_id,
            e.offer_category_id,
            coalesce(e.origin, 'unknown') as origin,
            e.user_id,
            e.user_pseudo_id
        from {{ ref("mrt_native__event") }} as e
        where
            e.event_name = 'ConsultOffer'
            and e.offer_id is not null
            and {{ in_run_days("e.event_date") }}
    ),

    beneficiary_at as (
        select distinct c.event_id
        from consultations as c
        inner join
            {{ ref("int_applicative__deposit") }} as d
            on c.user_id = d.user_id
            and c.event_timestamp >= d.deposit_creation_date
            and c.event_timestamp < d.deposit_expiration_date
    ),

    classified as (
        select
            c.*,
            case
                when b.event_id is not null
                then 'beneficiary'
                when c.user_id is not null
                then 'registered'
                else 'logged_out'
            end as user_status
        from consultations as c
        left join beneficiary_at as b on c.event_id = b.event_id
    )

select
    {{ composite_key(["event_date", "offer_id", "origin", "user_status"]) }}
    as offer_consultation_day_id,
    event_date,
    offer_id,
    any_value(venue_id) as venue_id,
    any_value(offerer_id) as offerer_id,
    any_value(offer_category_id) as offer_category_id,
    origin,
    user_status,
    count(*) as consultation_count,
    count(distinct user_pseudo_id) as device_count
from classified
group by event_date, offer_id, origin, user_status
