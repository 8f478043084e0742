-- What a booking says about what was booked agrees with the catalogue: its venue is its offer's,
-- its offerer the venue's; it books one place, or two on a duo offer; an event is booked before it
-- starts.
select
    b.booking_id,
    b.venue_id,
    o.venue_id as offer_venue_id,
    b.offerer_id,
    v.offerer_id as venue_offerer_id,
    b.booking_quantity,
    o.offer_is_duo,
    b.booking_created_at,
    s.stock_beginning_date
from {{ ref("int_applicative__booking_base") }} as b
left join {{ ref("int_applicative__stock") }} as s on b.stock_id = s.stock_id
left join {{ ref("int_applicative__offer") }} as o on s.offer_id = o.offer_id
left join {{ ref("int_applicative__venue") }} as v on o.venue_id = v.venue_id
where
    s.stock_id is null
    or b.venue_id <> o.venue_id
    or b.offerer_id <> v.offerer_id
    or b.booking_quantity not in (1, 2)
    or (b.booking_quantity = 2 and not o.offer_is_duo)
    or (s.stock_beginning_date is not null and b.booking_created_at > s.stock_beginning_date)
