-- Reminders users set on offers (notified when the offer becomes bookable), and whether the user
-- booked the offer afterwards.
with
    booked as (
        select user_id, offer_id, min(booking_created_at) as first_booking_at
        from {{ ref('int_applicative__booking') }}
        where not booking_is_cancelled
        group by user_id, offer_id
    )

select
    {{ as_id('r.offer_reminder_id') }} as offer_reminder_id,
    {{ as_id('r.user_id') }} as user_id,
    {{ as_id('r.offer_id') }} as offer_id,
    {{ as_ts('r.offer_reminder_creation_date') }} as offer_reminder_creation_date,
    coalesce(
        b.first_booking_at >= {{ as_ts('r.offer_reminder_creation_date') }}, false
    ) as offer_is_booked_after_reminder
from {{ source('raw', 'applicative_database_offer_reminder') }} as r
left join
    booked as b on {{ as_id('r.user_id') }} = b.user_id and {{ as_id('r.offer_id') }} = b.offer_id
