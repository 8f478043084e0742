-- Catalogue and ticketing synchronisations: which provider feeds which venue, whether it is
-- active, when it last synchronised, and the venue's offers (individual, school).
with
    offers as (
        select venue_id, count(*) as offer_count, min(offer_created_at) as first_offer_created_at
        from {{ ref('int_applicative__offer') }}
        group by venue_id
    ),

    collective as (
        select
            venue_id,
            count(*) as collective_offer_count,
            min(collective_offer_created_at) as first_collective_offer_created_at
        from {{ ref('mrt_global__collective_offer') }}
        group by venue_id
    )

select
    {{ as_id('vp.venue_provider_id') }} as venue_provider_id,
    {{ as_id('vp.provider_id') }} as provider_id,
    cast(p.provider_name as {{ dbt.type_string() }}) as provider_name,
    {{ as_bool('p.provider_is_active') }} as provider_is_active,
    cast(
        p.provider_booking_external_url as {{ dbt.type_string() }}
    ) as provider_booking_external_url,
    {{ as_bool('vp.venue_provider_is_active') }} as venue_provider_is_active,
    {{ as_ts('vp.venue_provider_creation_date') }} as venue_provider_creation_date,
    {{ as_ts('vp.venue_provider_last_sync_date') }} as venue_provider_last_sync_date,
    {{ as_id('vp.venue_id') }} as venue_id,
    v.venue_name,
    v.venue_type_code,
    v.venue_department_code,
    v.venue_is_permanent,
    v.offerer_id,
    coalesce(o.offer_count, 0) as venue_offer_count,
    coalesce(c.collective_offer_count, 0) as venue_collective_offer_count,
    o.first_offer_created_at,
    c.first_collective_offer_created_at
from {{ source('raw', 'applicative_database_venue_provider') }} as vp
inner join
    {{ source('raw', 'applicative_database_provider') }} as p on vp.provider_id = p.provider_id
left join {{ ref('mrt_global__venue') }} as v on {{ as_id('vp.venue_id') }} = v.venue_id
left join offers as o on {{ as_id('vp.venue_id') }} = o.venue_id
left join collective as c on {{ as_id('vp.venue_id') }} = c.venue_id
