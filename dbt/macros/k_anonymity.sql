{#
  Generalise quasi-identifiers until every combination of them is shared by at least k people.

  `levels` is a list of {output column: SQL expression over `relation`}, from the most precise to
  the coarsest (the same columns at every level; the last level usually all nulls). Each row takes
  the first level at which the class of its values holds at least k distinct `person` among the
  rows still unplaced; rows never placed take the last level (with, when they are fewer than k people, the smallest
  classes of the level before). `keep` columns pass through as they
  are (ids, pseudonymised when the file is written). It continues a `with` clause that defines
  `relation` (it starts with a comma). Why row by row: a uniform coarsening would
  throw away the department of the many users who already hide in a crowd to protect the few who
  do not.
#}
{% macro k_anonymous_generalisation(relation, row_id, person, keep, levels, k=5) -%}
    {%- set columns = levels[0].keys() | list -%}
    {%- set last = levels | length - 1 -%}
    {%- for level in levels[:-1] %}
        {%- set i = loop.index0 %},
        candidate_{{ i }} as (
            select
                r.{{ row_id }} as row_id,
                r.{{ person }} as person,
                {%- set parts = [] %}
                {%- for column in columns %}
                    {%- do parts.append("coalesce(cast(" ~ level[column] ~ " as " ~ dbt.type_string() ~ "), '~')") %}
                    {%- do parts.append("'|'") %}
                {%- endfor %}
                {{ dbt.concat(parts) }} as class_key
            from {{ relation }} as r
            {%- if i > 0 %}
                where
                    r.{{ row_id }} not in (
                        {%- for j in range(i) %}
                            select row_id from placed_{{ j }}{{ " union all" if not loop.last }}
                        {%- endfor %}
                    )
            {%- endif %}
        ),

        class_{{ i }} as (
            select class_key, count(distinct person) as person_count
            from candidate_{{ i }}
            group by class_key
        ),

        placed_{{ i }} as (
            select c.row_id, {{ i }} as generalisation_level
            from candidate_{{ i }} as c
            inner join class_{{ i }} as k on c.class_key = k.class_key
            where k.person_count >= {{ k }}
        )
    {%- endfor %}
    {%- set p = last - 1 %},
    residual as (
        select r.{{ row_id }} as row_id, r.{{ person }} as person
        from {{ relation }} as r
        where
            r.{{ row_id }} not in (
                {%- for j in range(last) %}
                    select row_id from placed_{{ j }}{{ " union all" if not loop.last }}
                {%- endfor %}
            )
    ),

    residual_count as (select count(distinct person) as person_count from residual),

    {#- when fewer than k people are left for the last level, the smallest classes of the level
        before it join them until they are k #}
    demotable as (
        select
            class_key,
            person_count,
            sum(person_count) over (
                order by person_count, class_key rows between unbounded preceding and current row
            ) as running_count
        from class_{{ p }}
        where person_count >= {{ k }}
    ),

    demoted as (
        select c.row_id
        from candidate_{{ p }} as c
        inner join demotable as d on c.class_key = d.class_key
        cross join residual_count as n
        where
            n.person_count > 0
            and n.person_count < {{ k }}
            and d.running_count - d.person_count < {{ k }} - n.person_count
    ),

    level as (
        {%- for j in range(last) %}
            select row_id, generalisation_level
            from placed_{{ j }}
            {%- if j == p %} where row_id not in (select row_id from demoted){% endif %}
            union all
        {%- endfor %}
        select row_id, {{ last }} as generalisation_level
        from residual
        union all
        select row_id, {{ last }} as generalisation_level
        from demoted
    )

    select
        {%- for column in keep %} r.{{ column }}, {%- endfor %}
        {%- for column in columns %}
            case
                {%- for level in levels %}
                    when l.generalisation_level = {{ loop.index0 }} then {{ level[column] }}
                {%- endfor %}
            end as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ relation }} as r
    inner join level as l on r.{{ row_id }} = l.row_id
{%- endmacro %}
