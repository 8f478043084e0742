{#
  Fails on each combination of `columns` (the quasi-identifiers an export keeps) shared by fewer
  than `k` distinct `person` (nulls count as a value, as a reader would see them).
#}
{% test k_anonymous(model, columns, person, k=5) %}
    select {{ columns | join(", ") }}, count(distinct {{ person }}) as person_count
    from {{ model }}
    group by {{ columns | join(", ") }}
    having count(distinct {{ person }}) < {{ k }}
{% endtest %}
