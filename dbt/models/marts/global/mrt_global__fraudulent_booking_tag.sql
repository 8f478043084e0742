-- Bookings the fraud team flagged: who flagged them, when, and the booking's venue and status.
select
    {{ as_id('t.fraudulent_booking_tag_id') }} as fraudulent_booking_tag_id,
    {{ as_id('t.booking_id') }} as booking_id,
    {{ as_id('t.fraudulent_booking_tag_author_id') }} as fraudulent_booking_tag_author_id,
    {{ as_ts('t.fraudulent_booking_tag_creation_date') }} as fraudulent_booking_tag_creation_date,
    b.booking_created_at,
    b.booking_status,
    b.venue_id,
    b.offerer_id,
    b.user_id
from {{ source('raw', 'applicative_database_fraudulent_booking_tag') }} as t
left join
    {{ ref('int_applicative__booking_base') }} as b on {{ as_id('t.booking_id') }} = b.booking_id
