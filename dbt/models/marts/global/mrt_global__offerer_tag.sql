-- Tags put on offerers (legal status, follow-up), one row per (offerer, tag, tag category).
select
    {{ composite_key(['m.offerer_tag_mapping_id', 'tcm.offerer_tag_category_id']) }}
    as offerer_tag_mapping_id,
    {{ as_id('m.offerer_id') }} as offerer_id,
    {{ as_id('m.offerer_tag_id') }} as tag_id,
    cast(t.offerer_tag_name as {{ dbt.type_string() }}) as tag_name,
    cast(t.offerer_tag_label as {{ dbt.type_string() }}) as tag_label,
    cast(t.offerer_tag_description as {{ dbt.type_string() }}) as tag_description,
    {{ as_id('tcm.offerer_tag_category_id') }} as tag_category_id,
    cast(tc.offerer_tag_category_name as {{ dbt.type_string() }}) as tag_category_name,
    cast(tc.offerer_tag_category_label as {{ dbt.type_string() }}) as tag_category_label
from {{ source('raw', 'applicative_database_offerer_tag_mapping') }} as m
inner join
    {{ source('raw', 'applicative_database_offerer_tag') }} as t
    on m.offerer_tag_id = t.offerer_tag_id
left join
    {{ source('raw', 'applicative_database_offerer_tag_category_mapping') }} as tcm
    on t.offerer_tag_id = tcm.offerer_tag_id
left join
    {{ source('raw', 'applicative_database_offerer_tag_category') }} as tc
    on tcm.offerer_tag_category_id = tc.offerer_tag_category_id
