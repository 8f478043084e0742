-- Collective bookings with the offer, the school and the school year's deposit they are paid from.
{{
    config(
        partition_by=bq_partition("collective_booking_creation_date"),
        cluster_by=bq_cluster(["educational_institution_id"]),
    )
}}

select
    b.collective_booking_id,
    b.collective_stock_id,
    b.collective_offer_id,
    b.venue_id,
    b.offerer_id,
    b.educational_institution_id,
    {{
        dbt.concat(
            ["b.educational_institution_id", "'|'", "b.educational_year_id"]
        )
    }} as educational_deposit_id,
    b.educational_year_id,
    o.collective_offer_name,
    o.collective_offer_format,
    b.collective_booking_status,
    b.collective_booking_is_cancelled,
    b.collective_booking_amount,
    b.collective_booking_number_of_tickets,
    b.collective_stock_beginning_date,
    b.collective_booking_created_at,
    b.collective_booking_creation_date,
    b.collective_booking_confirmation_date,
    b.collective_booking_used_date,
    b.collective_booking_cancellation_date,
    b.collective_booking_cancellation_reason,
    b.collective_booking_reimbursement_date,
    i.institution_department_code,
    o.venue_department_code
from {{ ref("int_applicative__collective_booking") }} as b
left join
    {{ ref("int_applicative__collective_offer") }} as o
    on b.collective_offer_id = o.collective_offer_id
left join
    {{ ref("int_applicative__educational_institution") }} as i
    on b.educational_institution_id = i.educational_institution_id
