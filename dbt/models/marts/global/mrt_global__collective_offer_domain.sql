-- The artistic domains of each school offer (an offer may have several).
select
    {{ composite_key(['cod.collective_offer_id', 'cod.educational_domain_id']) }}
    as collective_offer_domain_id,
    {{ as_id('cod.collective_offer_id') }} as collective_offer_id,
    {{ as_id('cod.educational_domain_id') }} as educational_domain_id,
    cast(d.educational_domain_name as {{ dbt.type_string() }}) as educational_domain_name
from {{ source('raw', 'applicative_database_collective_offer_domain') }} as cod
inner join
    {{ source('raw', 'applicative_database_educational_domain') }} as d
    on cod.educational_domain_id = d.educational_domain_id
