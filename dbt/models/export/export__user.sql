-- The ministry's user export: no name, address or exact birth date. Quasi-identifiers are
-- generalised per user until at least 5 users share every combination of them (macro
-- k_anonymous_generalisation: department -> region, creation month -> year, then coarser);
-- user_id is replaced by a keyed pseudonym when the file is written (data_gcp.exports). Counts and
-- amounts per user are left out: the deposit and booking exports give them by pseudonym.
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
        levels=[
            {
                "user_role": "user_role",
                "user_birth_year": "birth_year",
                "user_department_code": "user_department_code",
                "user_region_name": "user_region_name",
                "user_creation_period": "substr(cast(creation_date as " ~ dbt.type_string() ~ "), 1, 7)",
                "user_is_active": "user_is_active",
                "user_is_beneficiary": "user_is_beneficiary",
                "current_deposit_type": "current_deposit_type",
            },
            {
                "user_role": "user_role",
                "user_birth_year": "birth_year",
                "user_department_code": "cast(null as " ~ dbt.type_string() ~ ")",
                "user_region_name": "user_region_name",
                "user_creation_period": "substr(cast(creation_date as " ~ dbt.type_string() ~ "), 1, 4)",
                "user_is_active": "user_is_active",
                "user_is_beneficiary": "user_is_beneficiary",
                "current_deposit_type": "current_deposit_type",
            },
            {
                "user_role": "user_role",
                "user_birth_year": "birth_year",
                "user_department_code": "cast(null as " ~ dbt.type_string() ~ ")",
                "user_region_name": "cast(null as " ~ dbt.type_string() ~ ")",
                "user_creation_period": "cast(null as " ~ dbt.type_string() ~ ")",
                "user_is_active": "cast(null as " ~ dbt.type_boolean() ~ ")",
                "user_is_beneficiary": "user_is_beneficiary",
                "current_deposit_type": "current_deposit_type",
            },
            {
                "user_role": "cast(null as " ~ dbt.type_string() ~ ")",
                "user_birth_year": "cast(null as " ~ dbt.type_bigint() ~ ")",
                "user_department_code": "cast(null as " ~ dbt.type_string() ~ ")",
                "user_region_name": "cast(null as " ~ dbt.type_string() ~ ")",
                "user_creation_period": "cast(null as " ~ dbt.type_string() ~ ")",
                "user_is_active": "cast(null as " ~ dbt.type_boolean() ~ ")",
                "user_is_beneficiary": "cast(null as " ~ dbt.type_boolean() ~ ")",
                "current_deposit_type": "cast(null as " ~ dbt.type_string() ~ ")",
            },
        ],
        k=5,
    )
}}
