-- Collective stocks with their offer and venue and whether a school booked them.
with
    booked as (
        select
            collective_stock_id,
            count(
                case when not collective_booking_is_cancelled then 1 end
            ) as confirmed_collective_booking_count
        from {{ ref("int_applicative__collective_booking") }}
        group by collective_stock_id
    )

select
    s.collective_stock_id,
    s.collective_offer_id,
    o.venue_id,
    o.offerer_id,
    s.collective_stock_price,
    s.collective_stock_number_of_tickets,
    s.collective_stock_beginning_date,
    s.collective_stock_booking_limit_date,
    s.collective_stock_creation_date,
    s.collective_stock_modification_date,
    coalesce(b.confirmed_collective_booking_count, 0) > 0 as collective_stock_is_booked
from {{ ref("int_applicative__collective_stock") }} as s
left join
    {{ ref("int_applicative__collective_offer") }} as o
    on s.collective_offer_id = o.collective_offer_id
left join booked as b on s.collective_stock_id = b.collective_stock_id
