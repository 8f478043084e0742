-- The ministry's removed-venue export: the last version of each venue the app deleted,
-- as the nightly snapshot saw it (its last snapshot version is closed).
with removed as ({{ removed_versions(ref("snapshot__venue"), "venue_id") }})

select
    {{ as_id("venue_id") }} as venue_id,
    venue_name,
    venue_public_name,
    venue_siret,
    venue_is_open_to_public,
    {{ as_id("venue_managing_offerer_id") }} as offerer_id,
    venue_creation_date,
    venue_type_code,
    venue_department_code,
    venue_city,
    venue_postal_code,
    venue_latitude,
    venue_longitude,
    {{ as_date("dbt_valid_to") }} as venue_removal_date
from removed
