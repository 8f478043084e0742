{#
  1 when a row is its user's first of `key` over the user's whole history, else 0: first among the
  run's days (`rank_column` = 1, a row_number per user and key) and absent from every earlier day
  (relation `earlier`: one row per user and key seen before the run's days).
#}
{% macro first_in_history(key, rank_column, row="r", earlier="earlier") -%}
    case
        when
            {{ row }}.{{ rank_column }} = 1
            and not exists (
                select 1
                from {{ earlier }} as e
                where e.user_id = {{ row }}.user_id and e.{{ key }} = {{ row }}.{{ key }}
            )
        then 1
        else 0
    end
{%- endmacro %}
