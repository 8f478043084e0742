-- The beneficiary state of each user today (role and current deposit): the snapshot
-- snapshot__user_beneficiary versions it every night, which gives who was a beneficiary when.
select
    u.user_id,
    u.user_role,
    u.user_role in ('BENEFICIARY', 'UNDERAGE_BENEFICIARY') as user_is_beneficiary,
    u.user_department_code,
    d.deposit_id as current_deposit_id,
    d.deposit_type as current_deposit_type,
    d.deposit_amount as current_deposit_amount,
    d.deposit_expiration_date as current_deposit_expiration_date
from {{ ref("int_applicative__user") }} as u
left join
    {{ ref("int_applicative__deposit") }} as d on u.user_id = d.user_id and d.deposit_is_current
