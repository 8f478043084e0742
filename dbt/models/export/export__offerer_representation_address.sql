-- The ministry's offerer-address export: which offerer is represented at which address, and under
-- which label (head office, a venue's name).
select
    {{ as_id("offerer_address_id") }} as offerer_address_id,
    offerer_address_label,
    {{ as_id("address_id") }} as address_id,
    {{ as_id("offerer_id") }} as offerer_id
from {{ source("raw", "applicative_database_offerer_address") }}
