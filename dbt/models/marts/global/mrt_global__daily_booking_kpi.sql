-- Daily bookings and spend by category and by the booker's department.
-- Grouped on the dimensions first, the key built once per group (not once per booking).
-- Incremental by day: a run rebuilds the days its bookings changed (macro booking_days_to_rebuild).
{{ config(**incremental_by_day('booking_creation_date', cluster_by=['offer_category_id'])) }}

with
    days as ({{ booking_days_to_rebuild(ref('int_applicative__booking')) }}),

    daily as (
        select
            booking_creation_date,
            coalesce(offer_category_id, 'UNKNOWN') as offer_category_id,
            coalesce(user_department_code, 'UNKNOWN') as user_department_code,
            count(*) as total_booking_count,
            count(case when not booking_is_cancelled then 1 end) as booking_count,
            count(case when booking_is_cancelled then 1 end) as cancelled_booking_count,
            sum(
                case when not booking_is_cancelled then booking_intermediary_amount else 0 end
            ) as booking_amount,
            count(
                distinct case when not booking_is_cancelled then user_id end
            ) as booking_user_count,
            count(case when user_booking_rank = 1 then 1 end) as first_booking_count
        from {{ ref('int_applicative__booking') }}
        where booking_creation_date in (select day from days)
        group by 1, 2, 3
    )

select
    {{ dbt.concat([
        "cast(booking_creation_date as " ~ dbt.type_string() ~ ")", "'|'",
        "offer_category_id", "'|'",
        "user_department_code"]) }} as kpi_id,
    booking_creation_date,
    offer_category_id,
    user_department_code,
    total_booking_count,
    booking_count,
    cancelled_booking_count,
    booking_amount,
    booking_user_count,
    first_booking_count
from daily
