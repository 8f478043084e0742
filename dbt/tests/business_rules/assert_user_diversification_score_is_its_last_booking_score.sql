-- Diversification: a user's score is the running score after their last booking, and the first
-- booking of a user is new on every attribute it has.
with
    last_booking as (
        select user_id, max(user_diversification_score) as score
        from {{ ref("mrt_diversification__booking") }}
        group by user_id
    )

select u.user_id, u.diversification_score, l.score, null as booking_id
from {{ ref("mrt_diversification__user") }} as u
left join last_booking as l on u.user_id = l.user_id
where l.score is null or u.diversification_score <> l.score
union all
select b.user_id, b.diversification_delta, null, b.booking_id
from {{ ref("mrt_diversification__booking") }} as b
where
    b.user_booking_rank = 1
    and b.diversification_delta
    <> 4
    + case when b.venue_type_code is not null then 1 else 0 end
    + case when b.offer_genre is not null then 1 else 0 end
