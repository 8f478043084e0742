{# Fails on each row where the SQL boolean expression is not true (nulls count as failures). #}
{% test expression_is_true(model, expression) %}
    select * from {{ model }} where not coalesce({{ expression }}, false)
{% endtest %}
