-- Exports: each file of the ministry's family has exactly the rows of the mart it exports.
{% set pairs = [
    ("export__user", "mrt_global__user"),
    ("export__deposit", "mrt_global__deposit"),
    ("export__booking", "mrt_global__booking"),
    ("export__offer", "mrt_global__offer"),
    ("export__venue", "mrt_global__venue"),
    ("export__offerer", "mrt_global__offerer"),
    ("export__stock", "mrt_global__stock"),
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
