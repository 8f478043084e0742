-- Features of each user for retrieval and ranking (read by the ML jobs: contract enforced).
with
    consults as (
        select user_id, offer_category_id, count(*) as consult_count
        from {{ ref('int_firebase__consult_offer') }}
        group by user_id, offer_category_id
    ),

    bookings as (
        select user_id, offer_category_id, count(*) as booking_count
        from {{ ref('int_applicative__booking') }}
        where not booking_is_cancelled
        group by user_id, offer_category_id
    ),

    by_category as (
        select
            coalesce(b.user_id, c.user_id) as user_id,
            coalesce(b.offer_category_id, c.offer_category_id) as category_id,
            coalesce(b.booking_count, 0) as booking_count,
            coalesce(c.consult_count, 0) as consult_count
        from bookings as b
        full outer join
            consults as c on b.user_id = c.user_id and b.offer_category_id = c.offer_category_id
    ),

    favorite as (
        -- The category the user booked most, then consulted most (ties: alphabetical).
        select user_id, category_id
        from
            (
                select
                    user_id,
                    category_id,
                    row_number() over (
                        partition by user_id
                        order by booking_count desc, consult_count desc, category_id
                    ) as rn
                from by_category
                where category_id is not null
            ) as ranked
        where rn = 1
    )

select
    u.user_id,
    u.user_age,
    u.user_department_code,
    u.current_deposit_type as deposit_type,
    {{ as_float('u.remaining_credit') }} as remaining_credit,
    u.booking_count,
    u.consult_offer_count as consult_count,
    f.category_id as favorite_category_id
from {{ ref('mrt_global__user') }} as u
left join favorite as f on u.user_id = f.user_id
