{#
  `removed_versions(relation, key)`: from a snapshot with `hard_deletes: invalidate`, the last version
  of each key when that version is closed (the row left the source table). A key that came back
  later has a newer or open version and is not removed.
#}
{% macro removed_versions(relation, key) -%}
    select s.*
    from {{ relation }} as s
    where
        s.dbt_valid_to is not null
        and not exists (
            select 1
            from {{ relation }} as later
            where
                later.{{ key }} = s.{{ key }}
                and (later.dbt_valid_to is null or later.dbt_valid_from > s.dbt_valid_from)
        )
{%- endmacro %}
