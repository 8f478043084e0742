-- The ministry's user export: no name, address or exact birth date; user_id is replaced by a keyed
-- pseudonym when the file is written (data_gcp.exports).
select
    user_id,
    user_role,
    extract(year from user_birth_date) as user_birth_year,
    user_department_code,
    {{ as_date("user_creation_date") }} as user_creation_date,
    user_is_active,
    user_is_beneficiary,
    deposit_count,
    current_deposit_type,
    total_deposit_amount,
    total_credit_spent,
    booking_count,
    booked_category_count
from {{ ref("mrt_global__user") }}
