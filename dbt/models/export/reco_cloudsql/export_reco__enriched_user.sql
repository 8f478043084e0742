-- The app's `enriched_user` table (recommendation database): each user's current credit and
-- activity, read to choose the recommendation model and to filter offers by credit.
with
    favorites as (
        select user_id, count(*) as favorite_count
        from {{ ref("mrt_global__favorite") }}
        group by user_id
    )

select
    u.user_id,
    {{ as_ts("d.deposit_creation_date") }} as user_deposit_creation_date,
    {{ as_ts("u.user_birth_date") }} as user_birth_date,
    {{ as_float("u.current_deposit_amount") }} as user_deposit_initial_amount,
    {{ as_float("u.remaining_credit") }} as user_theoretical_remaining_credit,
    {{ as_int("coalesce(u.booking_count, 0)") }} as booking_cnt,
    {{ as_int("coalesce(u.consult_offer_count, 0)") }} as consult_offer,
    {{ as_int("coalesce(f.favorite_count, 0)") }} as has_added_offer_to_favorites
from {{ ref("mrt_global__user") }} as u
left join {{ ref("mrt_global__deposit") }} as d on u.current_deposit_id = d.deposit_id
left join favorites as f on u.user_id = f.user_id
