-- The ministry's IRIS export: the IRIS areas the user and venue exports name (code, commune,
-- department, centroid and contour as WKT).
select
    iris_code,
    iris_label,
    city_code,
    city_label,
    department_code,
    department_name,
    iris_centroid,
    iris_shape
from {{ ref("int_seed_files__geo_iris") }}
