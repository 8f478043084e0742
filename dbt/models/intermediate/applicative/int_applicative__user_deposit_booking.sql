-- Per user: credit granted, spent and remaining, first/last booking and time to first booking.
-- Time to first booking = days from the user's first deposit to their first non-cancelled booking
-- (null until they book). Remaining credit is the current (latest) deposit's.
with
    deposits as (
        select
            user_id,
            count(*) as deposit_count,
            min(deposit_creation_date) as first_deposit_creation_date,
            sum(deposit_amount) as total_deposit_amount,
            sum(deposit_spent_amount) as total_credit_spent,
            max(case when deposit_is_current then deposit_id end) as current_deposit_id,
            max(case when deposit_is_current then deposit_type end) as current_deposit_type,
            max(case when deposit_is_current then deposit_amount end) as current_deposit_amount,
            max(
                case when deposit_is_current then deposit_expiration_date end
            ) as current_deposit_expiration_date,
            max(
                case when deposit_is_current then deposit_remaining_credit end
            ) as current_deposit_remaining_credit
        from {{ ref('int_applicative__deposit') }}
        group by user_id
    ),

    bookings as (
        select
            user_id,
            count(*) as total_booking_count,
            count(case when not booking_is_cancelled then 1 end) as booking_count,
            count(case when booking_is_cancelled then 1 end) as cancelled_booking_count,
            min(case when not booking_is_cancelled then booking_created_at end) as first_booking_at,
            max(case when not booking_is_cancelled then booking_created_at end) as last_booking_at,
            count(
                distinct case when not booking_is_cancelled then offer_category_id end
            ) as booked_category_count
        from {{ ref('int_applicative__booking') }}
        group by user_id
    )

select
    coalesce(deposits.user_id, bookings.user_id) as user_id,
    coalesce(deposits.deposit_count, 0) as deposit_count,
    deposits.first_deposit_creation_date,
    coalesce(deposits.total_deposit_amount, 0) as total_deposit_amount,
    coalesce(deposits.total_credit_spent, 0) as total_credit_spent,
    deposits.current_deposit_id,
    deposits.current_deposit_type,
    deposits.current_deposit_amount,
    deposits.current_deposit_expiration_date,
    coalesce(deposits.current_deposit_remaining_credit, 0) as remaining_credit,
    coalesce(bookings.total_booking_count, 0) as total_booking_count,
    coalesce(bookings.booking_count, 0) as booking_count,
    coalesce(bookings.cancelled_booking_count, 0) as cancelled_booking_count,
    coalesce(bookings.booked_category_count, 0) as booked_category_count,
    bookings.first_booking_at,
    bookings.last_booking_at,
    case
        when
            bookings.first_booking_at is not null
            and deposits.first_deposit_creation_date is not null
        then
            {{ dbt.datediff(as_date('deposits.first_deposit_creation_date'), as_date('bookings.first_booking_at'), 'day') }}
    end as days_to_first_booking
from deposits
full outer join bookings on deposits.user_id = bookings.user_id
