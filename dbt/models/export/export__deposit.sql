-- The ministry's deposit export: deposit_id and user_id are replaced by keyed pseudonyms when the
-- file is written (data_gcp.exports). The grant's attributes are generalised per deposit until at
-- least 5 users share every combination (macro k_anonymous_generalisation); what was spent is the
-- sum of the booking export's amounts per deposit pseudonym, and the department is the user's.
with
    deposits as (
        select
            deposit_id,
            user_id,
            deposit_type,
            deposit_source,
            deposit_amount,
            {{ as_date("deposit_creation_date") }} as creation_date,
            deposit_is_expired,
            user_age_at_deposit
        from {{ ref("mrt_global__deposit") }}
    )

    {% set text = dbt.type_string() %}
    {% set month = "substr(cast(creation_date as " ~ text ~ "), 1, 7)" %}
    {% set year = "substr(cast(creation_date as " ~ text ~ "), 1, 4)" %}
    {{
    k_anonymous_generalisation(
        "deposits",
        row_id="deposit_id",
        person="user_id",
        keep=["deposit_id", "user_id"],
        levels=[
            {
                "deposit_type": "deposit_type",
                "deposit_source": "deposit_source",
                "deposit_amount": "deposit_amount",
                "deposit_creation_period": month,
                "deposit_is_expired": "deposit_is_expired",
                "user_age_at_deposit": "user_age_at_deposit",
            },
            {
                "deposit_type": "deposit_type",
                "deposit_source": "deposit_source",
                "deposit_amount": "deposit_amount",
                "deposit_creation_period": year,
                "deposit_is_expired": "deposit_is_expired",
                "user_age_at_deposit": "user_age_at_deposit",
            },
            {
                "deposit_type": "deposit_type",
                "deposit_source": "cast(null as " ~ text ~ ")",
                "deposit_amount": "deposit_amount",
                "deposit_creation_period": year,
                "deposit_is_expired": "deposit_is_expired",
                "user_age_at_deposit": "cast(null as " ~ dbt.type_bigint() ~ ")",
            },
            {
                "deposit_type": "deposit_type",
                "deposit_source": "cast(null as " ~ text ~ ")",
                "deposit_amount": "cast(null as " ~ float_type() ~ ")",
                "deposit_creation_period": "cast(null as " ~ text ~ ")",
                "deposit_is_expired": "cast(null as " ~ dbt.type_boolean() ~ ")",
                "user_age_at_deposit": "cast(null as " ~ dbt.type_bigint() ~ ")",
            },
            {
                "deposit_type": "cast(null as " ~ text ~ ")",
                "deposit_source": "cast(null as " ~ text ~ ")",
                "deposit_amount": "cast(null as " ~ float_type() ~ ")",
                "deposit_creation_period": "cast(null as " ~ text ~ ")",
                "deposit_is_expired": "cast(null as " ~ dbt.type_boolean() ~ ")",
                "user_age_at_deposit": "cast(null as " ~ dbt.type_bigint() ~ ")",
            },
        ],
        k=5,
    )
}}
