-- What kind of culture each offer is: taxonomy, format, venue type, genre, author, performer.
select
    offer_id,
    item_id,
    offer_category_id,
    offer_subcategory_id,
    search_group_name,
    offer_format,
    venue_type_code,
    offer_genre,
    offer_author,
    offer_performer,
    offer_type_label,
    offer_ean,
    offer_has_product
from {{ ref("int_applicative__offer_metadata") }}
