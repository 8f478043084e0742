-- Click training data for the two-tower model: each ConsultOffer of the last
-- `ml_click_training_days` days of events, with user and item features. The days end at the run's
-- last day (var last_day: constant bounds, so only those partitions are read), else at the newest
-- event.
{{ config(partition_by=bq_partition('event_date'), cluster_by=bq_cluster(['user_id'])) }}
{%- set last = run_days_end() %}
{%- set newest = _date_literal(last) if last is not none else 'bounds.max_event_date' %}

{% if last is none -%}
    with
        bounds as (
            select max(event_date) as max_event_date from {{ ref('int_firebase__consult_offer') }}
        )
{%- endif %}

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
{% if last is none %} cross join bounds{% endif %}
left join {{ ref('mrt_global__user') }} as u on c.user_id = u.user_id
where
    c.event_date > {{ add_days(newest, -var('ml_click_training_days')) }}
    and c.event_date <= {{ newest }}
