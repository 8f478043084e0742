-- The ministry's removed-offerer export: the last version of each offerer the app deleted, as the
-- nightly snapshot saw it (its last snapshot version is closed).
with removed as ({{ removed_versions(ref("snapshot__offerer"), "offerer_id") }})

select
    {{ as_id("offerer_id") }} as offerer_id,
    offerer_name,
    offerer_creation_date,
    offerer_validation_date,
    offerer_validation_status,
    offerer_is_active,
    offerer_siren,
    {{ as_date("dbt_valid_to") }} as offerer_removal_date
from removed
