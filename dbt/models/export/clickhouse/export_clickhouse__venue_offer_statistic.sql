-- The pro portal's offer counts per venue (ClickHouse `intermediate.venue_offer_statistic`, one
-- partition per export day): active, pending and inactive (not rejected) individual
-- and school offers.
with
    individual as (
        select
            venue_id,
            count(case when offer_is_active and offer_validation = 'APPROVED' then 1 end) as active,
            count(case when offer_validation = 'PENDING' then 1 end) as pending,
            count(
                case
                    when not offer_is_active and offer_validation not in ('REJECTED', 'PENDING')
                    then 1
                end
            ) as inactive
        from {{ ref("int_applicative__offer") }}
        group by venue_id
    ),

    collective as (
        select
            venue_id,
            count(
                case
                    when collective_offer_is_active and collective_offer_validation = 'APPROVED'
                    then 1
                end
            ) as active,
            count(case when collective_offer_validation = 'PENDING' then 1 end) as pending,
            count(
                case
                    when
                        not collective_offer_is_active
                        and collective_offer_validation not in ('REJECTED', 'PENDING')
                    then 1
                end
            ) as inactive
        from {{ ref("int_applicative__collective_offer") }}
        group by venue_id
    )

select
    v.venue_id,
    {{ as_int("coalesce(i.active, 0)") }} as total_active_offers,
    {{ as_int("coalesce(i.pending, 0)") }} as total_pending_offers,
    {{ as_int("coalesce(i.inactive, 0)") }} as total_inactive_non_rejected_offers,
    {{ as_int("coalesce(c.active, 0)") }} as total_active_collective_offers,
    {{ as_int("coalesce(c.pending, 0)") }} as total_pending_collective_offers,
    {{ as_int("coalesce(c.inactive, 0)") }} as total_inactive_non_rejected_collective_offers
from {{ ref("mrt_global__venue") }} as v
left join individual as i on v.venue_id = i.venue_id
left join collective as c on v.venue_id = c.venue_id
