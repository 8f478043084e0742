{# Helpers of the analytics marts (school, native, pro, diversification, exports). #}
{# The first day of the month of a date or timestamp, as a DATE on both engines. #}
{% macro month_start(expr) -%} cast({{ dbt.date_trunc("month", expr) }} as date) {%- endmacro %}

{# A composite key 'a|b|c' of string-cast parts (null parts become ''). #}
{% macro composite_key(parts) -%}
    {%- set casted = [] -%}
    {%- for p in parts -%}
        {%- do casted.append("coalesce(cast(" ~ p ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %} {%- do casted.append("'|'") -%} {% endif -%}
    {%- endfor -%}
    {{ dbt.concat(casted) }}
{%- endmacro %}

{# Whole months between two dates (b - a). #}
{% macro months_between(a, b) -%} {{ dbt.datediff(a, b, "month") }} {%- endmacro %}
