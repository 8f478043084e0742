-- A deposit's first grant (its amount less the recredits added to it), its total and the user's age
-- at the grant are those of its type in force on the grant date (macro deposit_grant_rules): a
-- 3,000 EUR deposit, a GRANT_18 of 500 EUR granted in 2024 or a GRANT_15_17 given to an adult fail.
with
    rules as ({{ deposit_grant_rules() }}),

    deposit as (
        select
            d.deposit_id,
            d.deposit_type,
            d.deposit_amount,
            d.deposit_recredit_amount,
            {{ as_date("d.deposit_creation_date") }} as grant_date,
            {{ age_at("u.user_birth_date", as_date("d.deposit_creation_date")) }} as age_at_grant
        from {{ ref("int_applicative__deposit") }} as d
        left join {{ ref("int_applicative__user") }} as u on d.user_id = u.user_id
    )

select d.*
from deposit as d
where
    not exists (
        select 1
        from rules as r
        where
            r.deposit_type = d.deposit_type
            and d.grant_date >= r.valid_from
            and d.grant_date < r.valid_to
            and abs(d.deposit_amount - d.deposit_recredit_amount - r.first_grant_amount) < 0.005
            and d.deposit_amount <= r.max_amount + 0.005
            and d.age_at_grant between r.min_age and r.max_age
    )
