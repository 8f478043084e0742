-- Ranking training set: every offer the recommendation API displayed in the last
-- `ml_ranking_training_days` days of logs, labelled by what the user did next:
-- 2 = booked the offer within `ranking_booking_window_days` days, 1 = consulted it within a day,
-- 0 = only seen. Features describe the user, the item and the display context.
-- The days end at the run's last day (var last_day: constant bounds, so only those partitions of
-- the displays and consultations are read), else at the newest display.
{{ config(partition_by=bq_partition('event_date'), cluster_by=bq_cluster(['user_id'])) }}
{%- set last = run_days_end() %}
{%- set newest = _date_literal(last) if last is not none else 'bounds.max_display_date' %}

with
    {% if last is none -%}
        bounds as (
            select max(display_date) as max_display_date
            from {{ ref('int_applicative__reco_display') }}
        ),
    {%- endif %}

    displays as (
        select d.*
        from {{ ref('int_applicative__reco_display') }} as d
        {% if last is none %} cross join bounds{% endif %}
        where
            d.display_date > {{ add_days(newest, -var('ml_ranking_training_days')) }}
            and d.display_date <= {{ newest }}
    ),

    consulted as (
        select distinct d.call_id, d.offer_id
        from displays as d
        inner join
            {{ ref('int_firebase__consult_offer') }} as c
            on c.user_id = d.user_id
            and c.offer_id = d.offer_id
            and c.event_timestamp >= d.displayed_at
            and c.event_timestamp < {{ timestamp_add_days('d.displayed_at', 1) }}
        {% if last is none %} cross join bounds{% endif %}
        -- a consultation within a day of a display of the window
        where
            c.event_date > {{ add_days(newest, -var('ml_ranking_training_days')) }}
            and c.event_date <= {{ add_days(newest, 1) }}
    ),

    booked as (
        select distinct d.call_id, d.offer_id
        from displays as d
        inner join
            {{ ref('int_applicative__booking') }} as b
            on b.user_id = d.user_id
            and b.offer_id = d.offer_id
            and b.booking_created_at >= d.displayed_at
            and b.booking_created_at
            < {{ timestamp_add_days('d.displayed_at', var('ranking_booking_window_days')) }}
    )

select
    d.call_id,
    d.user_id,
    d.offer_id,
    o.item_id,
    d.position,
    d.context,
    d.model_version,
    d.displayed_at,
    d.display_date as event_date,
    {{ as_int('case when bk.call_id is not null then 2 when cs.call_id is not null then 1 else 0 end') }}
    as label,
    -- user features
    u.user_age,
    u.user_department_code,
    u.deposit_type as user_deposit_type,
    u.remaining_credit as user_remaining_credit,
    u.booking_count as user_booking_count,
    u.consult_count as user_consult_count,
    u.favorite_category_id as user_favorite_category_id,
    -- item features
    o.offer_category_id as category_id,
    o.offer_subcategory_id as subcategory_id,
    {{ as_float('coalesce(o.offer_bookable_min_price, o.offer_min_price)') }} as price,
    o.offer_is_digital as is_digital,
    o.offer_is_event as is_event,
    o.offer_is_underage_recommendable as is_underage_recommendable,
    o.booking_count as offer_booking_count,
    o.favorite_count as offer_favorite_count,
    {{ dbt.datediff('o.offer_creation_date', 'd.display_date', 'day') }} as offer_age_days,
    -- context features
    {{ as_int('extract(hour from d.displayed_at)') }} as display_hour,
    {{ day_of_week('d.displayed_at') }} as display_day_of_week,
    coalesce(u.favorite_category_id = o.offer_category_id, false) as is_user_favorite_category
from displays as d
left join {{ ref('mrt_global__offer') }} as o on d.offer_id = o.offer_id
left join {{ ref('ml_reco__user_features') }} as u on d.user_id = u.user_id
left join consulted as cs on d.call_id = cs.call_id and d.offer_id = cs.offer_id
left join booked as bk on d.call_id = bk.call_id and d.offer_id = bk.offer_id
