-- The ministry's deposit export (user_id pseudonymised when written).
select
    deposit_id,
    user_id,
    deposit_type,
    deposit_source,
    deposit_amount,
    deposit_spent_amount,
    deposit_remaining_credit,
    {{ as_date("deposit_creation_date") }} as deposit_creation_date,
    {{ as_date("deposit_expiration_date") }} as deposit_expiration_date,
    deposit_is_expired,
    user_age_at_deposit,
    user_department_code
from {{ ref("mrt_global__deposit") }}
