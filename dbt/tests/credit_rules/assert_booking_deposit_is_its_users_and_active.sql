-- A booking is paid from a deposit of the user who booked, and that deposit was active when the
-- booking was made (granted before it, not yet expired). A booking without a deposit, on another
-- user's deposit or outside the deposit's life fails.
select
    b.booking_id,
    b.user_id,
    b.deposit_id,
    d.user_id as deposit_user_id,
    b.booking_created_at,
    d.deposit_creation_date,
    d.deposit_expiration_date
from {{ ref("int_applicative__booking_base") }} as b
left join {{ ref("int_applicative__deposit") }} as d on b.deposit_id = d.deposit_id
where
    d.deposit_id is null
    or d.user_id <> b.user_id
    or b.booking_created_at < d.deposit_creation_date
    or (d.deposit_expiration_date is not null and b.booking_created_at > d.deposit_expiration_date)
