-- The rule the whole credit rests on: the non-cancelled bookings paid from a deposit never add up
-- to more than the credit granted on it (first grant plus recredits), on the layer that computes
-- the spent amount.
select deposit_id, user_id, deposit_type, deposit_amount, deposit_spent_amount
from {{ ref("int_applicative__deposit") }}
where deposit_spent_amount > deposit_amount + 0.005
