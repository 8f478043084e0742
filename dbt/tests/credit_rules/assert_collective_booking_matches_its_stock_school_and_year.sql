-- A school's booking books an existing collective stock, from that stock's venue, for an existing
-- institution, paid from the deposit of the school year (September to August, "2026-2027") in which
-- the outing takes place; a collective stock is booked by one class at most (one booking not
-- cancelled).
with
    booking as (
        select
            b.*,
            {{ as_date("coalesce(b.collective_stock_beginning_date, b.collective_booking_created_at)") }}
            as outing_date,
            count(case when not b.collective_booking_is_cancelled then 1 end) over (
                partition by b.collective_stock_id
            ) as live_booking_count
        from {{ ref("int_applicative__collective_booking") }} as b
    )

select
    b.collective_booking_id,
    b.collective_stock_id,
    b.venue_id,
    o.venue_id as offer_venue_id,
    b.educational_institution_id,
    b.educational_year_id,
    b.outing_date,
    b.live_booking_count
from booking as b
left join
    {{ ref("int_applicative__collective_offer") }} as o
    on b.collective_offer_id = o.collective_offer_id
left join
    {{ ref("int_applicative__educational_institution") }} as i
    on b.educational_institution_id = i.educational_institution_id
where
    o.collective_offer_id is null
    or b.venue_id <> o.venue_id
    or i.educational_institution_id is null
    or b.live_booking_count > 1
    or b.educational_year_id is null
    or extract(year from b.outing_date) * 100 + extract(month from b.outing_date)
    not between cast(substr(b.educational_year_id, 1, 4) as {{ dbt.type_bigint() }}) * 100 + 9
    and cast(substr(b.educational_year_id, 1, 4) as {{ dbt.type_bigint() }}) * 100 + 108
