-- Bookings enriched with what was booked (offer, item, category) and who booked it (age,
-- department,
-- deposit type), plus each user's booking rank (1 = first non-cancelled booking).
{{ config(partition_by=bq_partition('booking_creation_date'), cluster_by=bq_cluster(['offer_category_id'])) }}

select
    b.booking_id,
    b.user_id,
    b.stock_id,
    b.deposit_id,
    coalesce(b.venue_id, o.venue_id) as venue_id,
    b.offerer_id,
    s.offer_id,
    o.item_id,
    o.offer_product_id,
    o.offer_name,
    o.offer_subcategory_id,
    o.offer_category_id,
    o.search_group_name,
    o.offer_is_digital,
    o.offer_is_event,
    s.stock_price,
    s.stock_beginning_date,
    b.booking_amount,
    b.booking_quantity,
    b.booking_intermediary_amount,
    b.booking_status,
    b.booking_is_cancelled,
    b.booking_is_used,
    b.booking_created_at,
    b.booking_creation_date,
    b.booking_used_date,
    b.booking_cancellation_date,
    b.booking_cancellation_reason,
    b.booking_reimbursement_date,
    d.deposit_type,
    u.user_department_code,
    {{ age_at('u.user_birth_date', 'b.booking_creation_date') }} as user_age_at_booking,
    case
        when not b.booking_is_cancelled
        then
            row_number() over (
                partition by b.user_id, b.booking_is_cancelled
                order by b.booking_created_at, b.booking_id
            )
    end as user_booking_rank
from {{ ref('int_applicative__booking_base') }} as b
left join {{ ref('int_applicative__stock') }} as s on b.stock_id = s.stock_id
left join {{ ref('int_applicative__offer') }} as o on s.offer_id = o.offer_id
left join {{ ref('int_applicative__deposit') }} as d on b.deposit_id = d.deposit_id
left join {{ ref('int_applicative__user') }} as u on b.user_id = u.user_id
