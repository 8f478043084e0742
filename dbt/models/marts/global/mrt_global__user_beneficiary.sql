-- Beneficiaries today: users with a beneficiary role or a deposit, their current deposit and
-- credit.
select
    u.user_id,
    u.user_role,
    u.user_birth_date,
    u.user_age,
    u.user_department_code,
    u.user_creation_date,
    d.deposit_count,
    d.first_deposit_creation_date,
    d.current_deposit_id,
    d.current_deposit_type,
    d.current_deposit_amount,
    d.current_deposit_expiration_date,
    d.total_deposit_amount,
    d.total_credit_spent,
    d.remaining_credit,
    d.booking_count,
    d.first_booking_at,
    d.last_booking_at,
    d.current_deposit_expiration_date is not null
    and {{ as_date("d.current_deposit_expiration_date") }}
    >= {{ as_of_date() }} as user_has_active_deposit
from {{ ref("int_applicative__user") }} as u
inner join {{ ref("int_applicative__user_deposit_booking") }} as d on u.user_id = d.user_id
where d.deposit_count > 0 or u.user_role in ('BENEFICIARY', 'UNDERAGE_BENEFICIARY')
