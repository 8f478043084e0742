-- The ministry's favourite export: favorite_id and user_id are replaced by keyed
-- pseudonyms when the file is written (data_gcp.exports); the day only, not the time,
-- of the saving.
select
    favorite_id,
    {{ as_date("favorite_creation_date") }} as favorite_creation_date,
    user_id,
    offer_id
from {{ ref("mrt_global__favorite") }}
