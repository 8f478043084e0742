-- Editorial tags (criteria) put on offers: which playlist, its category and dates.
select
    {{ as_id('oc.offer_criterion_id') }} as offer_criterion_id,
    {{ as_id('oc.offer_id') }} as offer_id,
    {{ as_id('oc.criterion_id') }} as criterion_id,
    cast(c.criterion_name as {{ dbt.type_string() }}) as criterion_name,
    cast(c.criterion_description as {{ dbt.type_string() }}) as criterion_description,
    cast(cc.criterion_category_label as {{ dbt.type_string() }}) as criterion_category_label,
    {{ as_ts('c.criterion_beginning_date') }} as criterion_beginning_date,
    {{ as_ts('c.criterion_ending_date') }} as criterion_ending_date,
    o.offer_name
from {{ source('raw', 'applicative_database_offer_criterion') }} as oc
inner join
    {{ source('raw', 'applicative_database_criterion') }} as c on oc.criterion_id = c.criterion_id
left join
    {{ source('raw', 'applicative_database_criterion_category_mapping') }} as ccm
    on c.criterion_id = ccm.criterion_id
left join
    {{ source('raw', 'applicative_database_criterion_category') }} as cc
    on ccm.criterion_category_id = cc.criterion_category_id
left join {{ ref('int_applicative__offer') }} as o on {{ as_id('oc.offer_id') }} = o.offer_id
