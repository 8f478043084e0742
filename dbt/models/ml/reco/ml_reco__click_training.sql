-- Click training data for the two-tower model: each ConsultOffer of the last
-- `ml_click_training_days` days of events, with user and item features.
{{ config(partition_by=bq_partition('event_date'), cluster_by=bq_cluster(['user_id'])) }}

with
    bounds as (
        select max(event_date) as max_event_date from {{ ref('int_firebase__consult_offer') }}
    )

select
    c.user_id,
    c.item_id,
    c.offer_id,
    c.event_timestamp,
    c.event_date,
    u.user_age,
    u.user_department_code,
    {{ as_float('u.remaining_credit') }} as user_deposit_remaining_credit,
    c.offer_category_id as category_id,
    c.offer_subcategory_id as subcategory_id,
    c.offer_name,
    {{ as_float('coalesce(c.offer_bookable_min_price, c.offer_min_price)') }} as price
from {{ ref('int_firebase__consult_offer') }} as c
cross join bounds
left join {{ ref('mrt_global__user') }} as u on c.user_id = u.user_id
where c.event_date > {{ add_days('bounds.max_event_date', -var('ml_click_training_days')) }}
