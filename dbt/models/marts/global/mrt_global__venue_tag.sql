-- Editorial tags (labels such as "Scène nationale") put on venues, with the venue's offerer.
select
    {{ composite_key(['vc.venue_criterion_id', 'ccm.criterion_category_id']) }}
    as venue_tag_mapping_id,
    {{ as_id('vc.venue_id') }} as venue_id,
    v.offerer_id,
    {{ as_id('vc.criterion_id') }} as venue_tag_id,
    cast(c.criterion_name as {{ dbt.type_string() }}) as venue_tag_name,
    {{ as_id('ccm.criterion_category_id') }} as venue_tag_category_id,
    cast(cc.criterion_category_label as {{ dbt.type_string() }}) as venue_tag_category_label
from {{ source('raw', 'applicative_database_venue_criterion') }} as vc
left join {{ ref('mrt_global__venue') }} as v on {{ as_id('vc.venue_id') }} = v.venue_id
inner join
    {{ source('raw', 'applicative_database_criterion_category_mapping') }} as ccm
    on vc.criterion_id = ccm.criterion_id
inner join
    {{ source('raw', 'applicative_database_criterion_category') }} as cc
    on ccm.criterion_category_id = cc.criterion_category_id
inner join
    {{ source('raw', 'applicative_database_criterion') }} as c on vc.criterion_id = c.criterion_id
