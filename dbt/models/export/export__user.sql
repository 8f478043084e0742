-- The ministry's user export: no name, address or exact birth date. Quasi-identifiers are
-- generalised per user until at least 5 users share every combination of them (macro
-- k_anonymous_generalisation); user_id is replaced by a keyed pseudonym when the file is written
-- (data_gcp.exports). Counts and amounts per user are left out: the deposit and booking exports
-- give them by pseudonym.
{% set text = dbt.type_string() %}
{% set null_text = "cast(null as " ~ text ~ ")" %}
{% set null_bool = "cast(null as " ~ dbt.type_boolean() ~ ")" %}
{% set precise = {
    "user_role": "user_role",
    "user_birth_year": "birth_year",
    "user_department_code": "user_department_code",
    "user_region_name": "user_region_name",
    "user_creation_period": "substr(cast(creation_date as " ~ text ~ "), 1, 7)",
    "user_is_active": "user_is_active",
    "user_is_beneficiary": "user_is_beneficiary",
    "current_deposit_type": "current_deposit_type",
} %}
{# the region instead of the department, the creation year instead of the month #}
{% set regional = precise.copy() %}
{% do regional.update({
    "user_department_code": null_text,
    "user_creation_period": "substr(cast(creation_date as " ~ text ~ "), 1, 4)",
}) %}
{# the birth year, role and status only #}
{% set by_age = regional.copy() %}
{% do by_age.update({
    "user_region_name": null_text,
    "user_creation_period": null_text,
    "user_is_active": null_bool,
}) %}
{# nothing but the pseudonym #}
{% set suppressed = {
    "user_role": null_text,
    "user_birth_year": "cast(null as " ~ dbt.type_bigint() ~ ")",
    "user_department_code": null_text,
    "user_region_name": null_text,
    "user_creation_period": null_text,
    "user_is_active": null_bool,
    "user_is_beneficiary": null_bool,
    "current_deposit_type": null_text,
} %}

with
    users as (
        select
            user_id,
            user_role,
            {{ as_int("extract(year from user_birth_date)") }} as birth_year,
            user_department_code,
            user_region_name,
            {{ as_date("user_creation_date") }} as creation_date,
            user_is_active,
            user_is_beneficiary,
            current_deposit_type
        from {{ ref("mrt_global__user") }}
    )

    {{
        k_anonymous_generalisation(
            "users",
            row_id="user_id",
            person="user_id",
            keep=["user_id"],
            levels=[precise, regional, by_age, suppressed],
            k=5,
        )
    }}
