-- The ministry's removed-offer export: the last version of each offer the app deleted,
-- as the nightly snapshot saw it before it disappeared (its last snapshot version is
-- closed: hard deletes invalidate). Rows appear from the night after a deletion is
-- imported.
with removed as ({{ removed_versions(ref("snapshot__offer"), "offer_id") }})

select
    {{ as_id("offer_id") }} as offer_id,
    offer_name,
    offer_description,
    offer_subcategory_id,
    offer_creation_date,
    offer_updated_date,
    offer_is_duo,
    offer_is_active,
    offer_publication_date,
    {{ as_id("offer_product_id") }} as offer_product_id,
    {{ as_id("venue_id") }} as venue_id,
    offer_validation,
    {{ as_date("dbt_valid_to") }} as offer_removal_date
from removed
