-- Deposits (credits granted to young users): amount granted, spent on non-cancelled bookings,
-- remaining (0 once expired) and expiry.
{{ config(cluster_by=bq_cluster(["deposit_type"])) }}

select
    d.deposit_id,
    d.user_id,
    d.deposit_type,
    d.deposit_source,
    d.deposit_amount,
    d.deposit_recredit_count,
    d.deposit_recredit_amount,
    d.deposit_booking_count,
    d.deposit_spent_amount,
    d.deposit_remaining_credit,
    d.deposit_creation_date,
    d.deposit_update_date,
    d.deposit_expiration_date,
    d.deposit_is_expired,
    d.deposit_is_current,
    d.deposit_first_booking_at,
    d.deposit_last_booking_at,
    {{ age_at("u.user_birth_date", as_date("d.deposit_creation_date")) }} as user_age_at_deposit,
    u.user_department_code
from {{ ref("int_applicative__deposit") }} as d
left join {{ ref("int_applicative__user") }} as u on d.user_id = u.user_id
