-- The offer referential (subcategory -> category, search group, flags), typed once for every model.
-- Written by the api_referentials connector from the backend's /native/v1/subcategories/v2.
-- is_digital: the offer happens online (the backend's online_offline_platform).
select
    cast(id as {{ dbt.type_string() }}) as subcategory_id,
    cast(category_id as {{ dbt.type_string() }}) as category_id,
    cast(app_label as {{ dbt.type_string() }}) as subcategory_label,
    cast(search_group_name as {{ dbt.type_string() }}) as search_group_name,
    {{ as_bool('is_event') }} as is_event,
    online_offline_platform = 'ONLINE' as is_digital,
    {{ as_bool('can_be_duo') }} as can_be_duo,
    {{ as_bool('is_physical_deposit') }} as is_physical_deposit,
    -- 15-17 year olds cannot book digital offers, except the subcategories listed in the var.
    (
        online_offline_platform != 'ONLINE'
        or cast(id as {{ dbt.type_string() }}) in (
            {%- for s in var('underage_allowed_digital_subcategories') %}
                '{{ s }}'{% if not loop.last %}, {% endif %}
            {% endfor -%}
        )
    ) as is_underage_recommendable
from {{ source('raw_api_referentials', 'subcategories') }}
