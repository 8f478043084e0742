{{ config(schema='int_seed_files') }}
-- IRIS areas (INSEE's sub-commune statistical areas) from the reference file, with the department's
-- name, the centroid and the contour's extent as WKT (longitude first, as WKT wants). Points are
-- placed in an IRIS by the extent (`macro iris_of`): the reference file gives rectangles.
{%- set cols = [('iris_code', 'string'), ('iris_label', 'string'), ('city_code', 'string'),
    ('city_label', 'string'), ('department_code', 'string'), ('centroid_latitude', 'float'),
    ('centroid_longitude', 'float'), ('min_latitude', 'float'), ('max_latitude', 'float'),
    ('min_longitude', 'float'), ('max_longitude', 'float')] %}
{%- set text = dbt.type_string() %}
with
    iris as (
        select
            cast(iris_code as {{ text }}) as iris_code,
            cast(iris_label as {{ text }}) as iris_label,
            cast(city_code as {{ text }}) as city_code,
            cast(city_label as {{ text }}) as city_label,
            cast(department_code as {{ text }}) as department_code,
            {{ as_float('centroid_latitude') }} as centroid_latitude,
            {{ as_float('centroid_longitude') }} as centroid_longitude,
            {{ as_float('min_latitude') }} as min_latitude,
            {{ as_float('max_latitude') }} as max_latitude,
            {{ as_float('min_longitude') }} as min_longitude,
            {{ as_float('max_longitude') }} as max_longitude
        from {{ source_or_empty('seed_files', 'geo_iris', cols) }}
    )

select
    i.iris_code,
    i.iris_label,
    i.city_code,
    i.city_label,
    i.department_code,
    d.department_name,
    d.region_name,
    i.centroid_latitude,
    i.centroid_longitude,
    i.min_latitude,
    i.max_latitude,
    i.min_longitude,
    i.max_longitude,
    {{ dbt.concat(["'POINT('", "cast(i.centroid_longitude as " ~ text ~ ")", "' '",
        "cast(i.centroid_latitude as " ~ text ~ ")", "')'"]) }} as iris_centroid,
    {{ dbt.concat([
        "'POLYGON(('",
        "cast(i.min_longitude as " ~ text ~ ")", "' '", "cast(i.min_latitude as " ~ text ~ ")", "', '",
        "cast(i.max_longitude as " ~ text ~ ")", "' '", "cast(i.min_latitude as " ~ text ~ ")", "', '",
        "cast(i.max_longitude as " ~ text ~ ")", "' '", "cast(i.max_latitude as " ~ text ~ ")", "', '",
        "cast(i.min_longitude as " ~ text ~ ")", "' '", "cast(i.max_latitude as " ~ text ~ ")", "', '",
        "cast(i.min_longitude as " ~ text ~ ")", "' '", "cast(i.min_latitude as " ~ text ~ ")", "'))'"
    ]) }}
    as iris_shape
from iris as i
left join
    {{ ref('int_seed_files__department_region') }} as d on i.department_code = d.department_code
