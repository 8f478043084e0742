-- Bookings with clean types; no join yet, so that stocks and deposits can aggregate them.
-- A view on DuckDB (casts only: its readers re-cast for less than writing a copy costs), a table
-- on BigQuery.
{{ config(materialized='table' if target.type == 'bigquery' else 'view') }}
select
    {{ as_id('booking_id') }} as booking_id,
    {{ as_id('user_id') }} as user_id,
    {{ as_id('stock_id') }} as stock_id,
    {{ as_id('deposit_id') }} as deposit_id,
    {{ as_id('venue_id') }} as venue_id,
    {{ as_id('offerer_id') }} as offerer_id,
    {{ as_float('booking_amount') }} as booking_amount,
    {{ as_int('booking_quantity') }} as booking_quantity,
    {{ as_float('booking_amount') }}
    * {{ as_int('booking_quantity') }} as booking_intermediary_amount,
    cast(booking_status as {{ dbt.type_string() }}) as booking_status,
    cast(booking_status as {{ dbt.type_string() }}) = 'CANCELLED' as booking_is_cancelled,
    cast(booking_status as {{ dbt.type_string() }}) in ('USED', 'REIMBURSED') as booking_is_used,
    {{ as_ts('booking_creation_date') }} as booking_created_at,
    {{ as_date('booking_creation_date') }} as booking_creation_date,
    {{ as_ts('booking_used_date') }} as booking_used_date,
    {{ as_ts('booking_cancellation_date') }} as booking_cancellation_date,
    cast(booking_cancellation_reason as {{ dbt.type_string() }}) as booking_cancellation_reason,
    {{ as_ts('booking_reimbursement_date') }} as booking_reimbursement_date
from {{ source('raw', 'applicative_database_booking') }}
