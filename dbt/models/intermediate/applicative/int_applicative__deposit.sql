-- Deposits with what was spent and what remains.
-- deposit_amount is the credit granted so far: the backend adds each recredit to it (recredits are
-- listed in their own table, summed here for information). Spent = non-cancelled bookings on the
-- deposit. Remaining = granted - spent (never below 0), and 0 once the deposit has expired.
with
    recredit as (
        select
            {{ as_id('deposit_id') }} as deposit_id,
            count(*) as recredit_count,
            sum({{ as_float('recredit_amount') }}) as recredit_amount
        from {{ source('raw', 'applicative_database_recredit') }}
        group by 1
    ),

    spent as (
        select
            deposit_id,
            count(*) as booking_count,
            sum(booking_intermediary_amount) as spent_amount,
            min(booking_created_at) as first_booking_at,
            max(booking_created_at) as last_booking_at
        from {{ ref('int_applicative__booking_base') }}
        where not booking_is_cancelled
        group by deposit_id
    ),

    deposit as (
        select
            {{ as_id('deposit_id') }} as deposit_id,
            {{ as_id('user_id') }} as user_id,
            {{ as_float('deposit_amount') }} as deposit_amount,
            cast(deposit_source as {{ dbt.type_string() }}) as deposit_source,
            cast(deposit_type as {{ dbt.type_string() }}) as deposit_type,
            {{ as_ts('deposit_creation_date') }} as deposit_creation_date,
            {{ as_ts('deposit_update_date') }} as deposit_update_date,
            {{ as_ts('deposit_expiration_date') }} as deposit_expiration_date
        from {{ source('raw', 'applicative_database_deposit') }}
    )

select
    deposit.*,
    coalesce(recredit.recredit_count, 0) as deposit_recredit_count,
    coalesce(recredit.recredit_amount, 0) as deposit_recredit_amount,
    coalesce(spent.booking_count, 0) as deposit_booking_count,
    coalesce(spent.spent_amount, 0) as deposit_spent_amount,
    spent.first_booking_at as deposit_first_booking_at,
    spent.last_booking_at as deposit_last_booking_at,
    (
        deposit.deposit_expiration_date is not null
        and {{ as_date('deposit.deposit_expiration_date') }} < {{ as_of_date() }}
    ) as deposit_is_expired,
    case
        when
            deposit.deposit_expiration_date is not null
            and {{ as_date('deposit.deposit_expiration_date') }} < {{ as_of_date() }}
        then 0
        else greatest(deposit.deposit_amount - coalesce(spent.spent_amount, 0), 0)
    end as deposit_remaining_credit,
    row_number() over (
        partition by deposit.user_id
        order by deposit.deposit_creation_date desc, deposit.deposit_id desc
    )
    = 1 as deposit_is_current
from deposit
left join recredit on deposit.deposit_id = recredit.deposit_id
left join spent on deposit.deposit_id = spent.deposit_id
