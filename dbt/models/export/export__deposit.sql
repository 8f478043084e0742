-- The ministry's deposit export: deposit_id and user_id are replaced by keyed pseudonyms when the
-- file is written (data_gcp.exports). The grant's attributes are generalised per deposit until at
-- least 5 users share every combination (macro k_anonymous_generalisation); what was spent is the
-- sum of the booking export's amounts per deposit pseudonym, and the department is the user's.
{% set text = dbt.type_string() %}
{% set null_text = "cast(null as " ~ text ~ ")" %}
{% set null_int = "cast(null as " ~ dbt.type_bigint() ~ ")" %}
{% set precise = {
    "deposit_type": "deposit_type",
    "deposit_source": "deposit_source",
    "deposit_amount": "deposit_amount",
    "deposit_creation_period": "substr(cast(creation_date as " ~ text ~ "), 1, 7)",
    "deposit_is_expired": "deposit_is_expired",
    "user_age_at_deposit": "user_age_at_deposit",
} %}
{# the grant year instead of the month #}
{% set yearly = precise.copy() %}
{% do yearly.update({"deposit_creation_period": "substr(cast(creation_date as " ~ text ~ "), 1, 4)"}) %}
{# without the identity check and the age #}
{% set by_amount = yearly.copy() %}
{% do by_amount.update({"deposit_source": null_text, "user_age_at_deposit": null_int}) %}
{# the type only, then nothing but the pseudonyms #}
{% set by_type = {
    "deposit_type": "deposit_type",
    "deposit_source": null_text,
    "deposit_amount": "cast(null as " ~ float_type() ~ ")",
    "deposit_creation_period": null_text,
    "deposit_is_expired": "cast(null as " ~ dbt.type_boolean() ~ ")",
    "user_age_at_deposit": null_int,
} %}
{% set suppressed = by_type.copy() %}
{% do suppressed.update({"deposit_type": null_text}) %}

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

    {{
        k_anonymous_generalisation(
            "deposits",
            row_id="deposit_id",
            person="user_id",
            keep=["deposit_id", "user_id"],
            levels=[precise, yearly, by_amount, by_type, suppressed],
            k=5,
        )
    }}
