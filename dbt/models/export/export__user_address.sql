-- The ministry's user-location export: where each geocoded user lives, never the address nor the
-- coordinates: the IRIS, commune, postal code, department and region, generalised per user until at
-- least 5 users share every combination (macro k_anonymous_generalisation); user_id is replaced by
-- a keyed pseudonym when the file is written (data_gcp.exports).
{% set text = dbt.type_string() %}
{% set null_text = "cast(null as " ~ text ~ ")" %}
{% set null_bool = "cast(null as " ~ dbt.type_boolean() ~ ")" %}
{% set precise = {
    "user_geocode_type": "geocode_type",
    "user_iris_code": "iris_code",
    "user_city_code": "city_code",
    "user_postal_code": "postal_code",
    "user_department_code": "department_code",
    "user_region_name": "region_name",
    "user_in_qpv_postal_code": "in_qpv_postal_code",
} %}
{# the commune, without the IRIS nor the geocoding's precision #}
{% set by_commune = precise.copy() %}
{% do by_commune.update({"user_geocode_type": null_text, "user_iris_code": null_text}) %}
{# the department and the priority-district flag #}
{% set by_department = by_commune.copy() %}
{% do by_department.update({"user_city_code": null_text, "user_postal_code": null_text}) %}
{# the region only, then nothing but the pseudonym #}
{% set by_region = by_department.copy() %}
{% do by_region.update({"user_department_code": null_text, "user_in_qpv_postal_code": null_bool}) %}
{% set suppressed = by_region.copy() %}
{% do suppressed.update({"user_region_name": null_text}) %}

with
    located as (
        select
            l.user_id,
            l.address_result_type as geocode_type,
            {{ iris_of("l.latitude", "l.longitude") }} as iris_code,
            l.city_code,
            l.postcode as postal_code,
            l.department_code,
            l.region_name,
            coalesce(p.is_in_qpv_postal_code, false) as in_qpv_postal_code
        from {{ ref("int_addresses__user_location") }} as l
        inner join {{ ref("mrt_global__user") }} as u on l.user_id = u.user_id
        left join {{ ref("int_seed_files__postal_code_area") }} as p on l.postcode = p.postal_code
        where not l.address_is_low_score
    )

    {{
        k_anonymous_generalisation(
            "located",
            row_id="user_id",
            person="user_id",
            keep=["user_id"],
            levels=[precise, by_commune, by_department, by_region, suppressed],
            k=5,
        )
    }}
