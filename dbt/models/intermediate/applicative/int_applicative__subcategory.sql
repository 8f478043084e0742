-- The offer referential (subcategory -> category, search group, flags), typed once for every model.
select
    cast(id as {{ dbt.type_string() }}) as subcategory_id,
    cast(category_id as {{ dbt.type_string() }}) as category_id,
    cast(app_label as {{ dbt.type_string() }}) as subcategory_label,
    cast(search_group_name as {{ dbt.type_string() }}) as search_group_name,
    {{ as_bool('is_event') }} as is_event,
    {{ as_bool('is_digital') }} as is_digital,
    {{ as_bool('can_be_duo') }} as can_be_duo,
    {{ as_bool('is_physical_deposit') }} as is_physical_deposit,
    -- 15-17 year olds cannot book digital offers, except the subcategories listed in the var.
    (
        not {{ as_bool('is_digital') }}
        or cast(id as {{ dbt.type_string() }}) in (
            {%- for s in var('underage_allowed_digital_subcategories') %}
                '{{ s }}'{% if not loop.last %}, {% endif %}
            {% endfor -%}
        )
    ) as is_underage_recommendable
from {{ source('raw', 'subcategories') }}
