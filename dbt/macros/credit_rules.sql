{#
  The pass Culture credit, as the backend grants it (one row per deposit type and period):
  the first grant, the most a deposit of that type may reach with its recredits, and the user's age
  at the grant. GRANT_18 is 500 EUR until 2023-03-01, then 300 EUR; GRANT_15_17 is 20 EUR at 15,
  30 EUR at 16 or 17, recredited 30 EUR at 16 and 17 (80 EUR at most); GRANT_17_18 (the 2025
  reform) is 50 EUR at 17 topped up by 150 EUR at 18, or 150 EUR when first granted at 18.
#}
{% macro deposit_grant_rules() -%}
    select
        'GRANT_18' as deposit_type,
        cast('2000-01-01' as date) as valid_from,
        cast('2023-03-01' as date) as valid_to,
        500.0 as first_grant_amount,
        500.0 as max_amount,
        18 as min_age,
        19 as max_age
    union all
    select 'GRANT_18', cast('2023-03-01' as date), cast('2100-01-01' as date), 300.0, 300.0, 18, 19
    union all
    select 'GRANT_15_17', cast('2000-01-01' as date), cast('2100-01-01' as date), 20.0, 80.0, 15, 17
    union all
    select 'GRANT_15_17', cast('2000-01-01' as date), cast('2100-01-01' as date), 30.0, 80.0, 15, 17
    union all
    select
        'GRANT_17_18', cast('2000-01-01' as date), cast('2100-01-01' as date), 50.0, 200.0, 17, 18
    union all
    select
        'GRANT_17_18', cast('2000-01-01' as date), cast('2100-01-01' as date), 150.0, 200.0, 17, 18
{%- endmacro %}
