-- The ministry's offer metadata export: what kind of culture each offer is (search group, format,
-- venue type, genre, author, performer, EAN).
select
    offer_id,
    item_id,
    search_group_name,
    offer_format,
    venue_type_code,
    offer_genre,
    offer_author,
    offer_performer,
    offer_type_label,
    offer_ean
from {{ ref("mrt_global__offer_metadata") }}
