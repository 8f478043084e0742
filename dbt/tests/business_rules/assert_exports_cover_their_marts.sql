-- Exports generalised for k-anonymity (macro k_anonymous_generalisation places each row at one
-- level, through joins and anti-joins) keep exactly the rows of their mart: none lost, none
-- doubled. (The other exports select their mart's columns and cannot lose a row.)
{% set pairs = [
    ("export__user", "mrt_global__user"),
    ("export__deposit", "mrt_global__deposit"),
] %}
{% for export, mart in pairs %}
    select '{{ export }}' as export_name, e.n as export_rows, m.n as mart_rows
    from (select count(*) as n from {{ ref(export) }}) as e
    cross join (select count(*) as n from {{ ref(mart) }}) as m
    where e.n <> m.n
    {% if not loop.last %}
        union all
    {% endif %}
{% endfor %}
