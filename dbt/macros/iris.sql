{#
  The IRIS holding a point: `iris_of(lat, lon)` is a correlated subquery giving the code of the IRIS
  whose extent contains (lat, lon) (the lowest code where extents touch), null outside every IRIS
  or without coordinates.
#}
{% macro iris_of(latitude, longitude) -%}
    (
        select min(iris.iris_code)
        from {{ ref('int_seed_files__geo_iris') }} as iris
        where
            {{ latitude }} >= iris.min_latitude
            and {{ latitude }} < iris.max_latitude
            and {{ longitude }} >= iris.min_longitude
            and {{ longitude }} < iris.max_longitude
    )
{%- endmacro %}
