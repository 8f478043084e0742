-- What kind of culture an offer is: taxonomy, format (event, digital or physical good), the
-- venue's type and the attributes of its extra data (genre, author, performer), falling back to its
-- product's. The diversification models compare bookings on these attributes.
select
    o.offer_id,
    o.item_id,
    o.offer_subcategory_id,
    o.offer_category_id,
    o.search_group_name,
    case
        when o.offer_is_event
        then 'EVENT'
        when o.offer_is_digital
        then 'DIGITAL'
        else 'PHYSICAL_GOOD'
    end as offer_format,
    v.venue_type_code,
    coalesce({{ json_string("r.offer_extra_data", "genre") }}, p.product_genre) as offer_genre,
    coalesce(o.offer_author, p.product_author) as offer_author,
    coalesce(o.offer_performer, p.product_performer) as offer_performer,
    coalesce(
        {{ json_string("r.offer_extra_data", "musicType") }},
        {{ json_string("r.offer_extra_data", "showType") }}
    ) as offer_type_label,
    coalesce(o.offer_ean, p.product_ean) as offer_ean,
    o.offer_product_id is not null as offer_has_product
from {{ ref("int_applicative__offer") }} as o
inner join
    {{ source("raw", "applicative_database_offer") }} as r on o.offer_id = {{ as_id("r.offer_id") }}
left join {{ ref("int_applicative__product") }} as p on o.offer_product_id = p.product_id
left join {{ ref("int_applicative__venue") }} as v on o.venue_id = v.venue_id
