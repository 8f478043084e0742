-- Neighbourhood statistics per IRIS (INSEE's areas of about 2,000 inhabitants) joined to what
-- pass Culture reaches there: the venues open to the public within 5 and 20 km of its centre and
-- the users who live in it (geocoded addresses), next to its population by age, income deciles and
-- social categories.
{%- set census_cols = [('iris_code', 'string'), ('total_population', 'bigint'),
    ('population_15_years_or_more', 'bigint'), ('population_11_17_years', 'bigint'),
    ('population_18_24_years', 'bigint'), ('revenue_q10', 'float'), ('revenue_q50', 'float'),
    ('revenue_q90', 'float'), ('csp_1', 'bigint'), ('csp_2', 'bigint'), ('csp_3', 'bigint'),
    ('csp_4', 'bigint'), ('csp_5', 'bigint'), ('csp_6', 'bigint'), ('csp_7', 'bigint'),
    ('csp_8', 'bigint'), ('french_population', 'bigint'), ('foreign_population', 'bigint')] %}
{%- set deg = "(acos(-1) / 180)" %}
with
    iris as (select * from {{ ref('int_seed_files__geo_iris') }}),

    venues as (
        select venue_id, venue_latitude, venue_longitude
        from {{ ref('mrt_global__venue') }}
        where venue_is_open_to_public and venue_latitude is not null
    ),

    distances as (
        select
            i.iris_code,
            v.venue_id,
            2
            * 6371
            * asin(
                sqrt(
                    power(sin((v.venue_latitude - i.centroid_latitude) * {{ deg }} / 2), 2)
                    + cos(i.centroid_latitude * {{ deg }})
                    * cos(v.venue_latitude * {{ deg }})
                    * power(sin((v.venue_longitude - i.centroid_longitude) * {{ deg }} / 2), 2)
                )
            ) as distance_km
        from iris as i
        inner join
            venues as v
            on abs(v.venue_latitude - i.centroid_latitude) < 0.2
            and abs(v.venue_longitude - i.centroid_longitude) < 0.3
    ),

    venue_density as (
        select
            iris_code,
            count(distinct case when distance_km < 5 then venue_id end) as total_venue_5_km,
            count(distinct case when distance_km < 20 then venue_id end) as total_venue_20_km
        from distances
        group by iris_code
    ),

    -- each geocoded user in one IRIS: the lowest code whose extent holds the address (extents of
    -- neighbouring departments' grids may overlap), as the exports place points
    user_iris as (
        select l.user_id, min(i.iris_code) as iris_code
        from {{ ref('int_addresses__user_location') }} as l
        inner join
            iris as i
            on l.latitude >= i.min_latitude
            and l.latitude < i.max_latitude
            and l.longitude >= i.min_longitude
            and l.longitude < i.max_longitude
        group by l.user_id
    ),

    residents as (
        select
            u.iris_code,
            count(distinct u.user_id) as total_users,
            count(distinct b.user_id) as total_beneficiaries
        from user_iris as u
        left join {{ ref('mrt_global__user_beneficiary') }} as b on u.user_id = b.user_id
        group by u.iris_code
    ),

    census as (
        select * from {{ source_or_empty('seed_files', 'iris_socio_demographics', census_cols) }}
    )

select
    i.iris_code,
    i.iris_label,
    i.city_code,
    i.city_label,
    i.department_code,
    i.department_name,
    i.region_name,
    (i.max_latitude - i.min_latitude)
    * 111.32
    * (i.max_longitude - i.min_longitude)
    * 111.32
    * cos(i.centroid_latitude * {{ deg }}) as iris_area_sq_km,
    coalesce(d.total_venue_5_km, 0) as total_venue_5_km,
    coalesce(d.total_venue_20_km, 0) as total_venue_20_km,
    coalesce(r.total_users, 0) as total_users,
    coalesce(r.total_beneficiaries, 0) as total_beneficiaries,
    {{ as_int('c.total_population') }} as total_population,
    {{ as_int('c.population_15_years_or_more') }} as total_population_15_years_or_more,
    {{ as_int('c.population_11_17_years') }} as total_population_11_17_years,
    {{ as_int('c.population_18_24_years') }} as total_population_18_24_years,
    {{ as_float('c.revenue_q10') }} as total_revenue_10_decile,
    {{ as_float('c.revenue_q50') }} as total_revenue_50_decile,
    {{ as_float('c.revenue_q90') }} as total_revenue_90_decile,
    {% for k in range(1, 9) -%}
        {{ safe_divide(as_float('c.csp_' ~ k), 'c.population_15_years_or_more') }}
        as pct_csp_{{ k }},
    {% endfor -%}
    {{ safe_divide(as_float('c.french_population'), 'c.total_population') }}
    as pct_french_population,
    {{ safe_divide(as_float('c.foreign_population'), 'c.total_population') }}
    as pct_foreign_population,
    {{ safe_divide(as_float('r.total_beneficiaries'), 'c.population_18_24_years') }}
    as beneficiary_per_18_24_resident
from iris as i
left join venue_density as d on i.iris_code = d.iris_code
left join residents as r on i.iris_code = r.iris_code
left join census as c on i.iris_code = c.iris_code
