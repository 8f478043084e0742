-- What pass Culture pays each structure: one row per pricing (a used booking, individual or
-- school), with the reimbursement rule applied, the offerer's revenue and contribution, and the
-- cashflow, batch and invoice that paid it. Amounts in euros, positive: the app stores cents,
-- negative for money leaving pass Culture.
with
    lines as (
        select
            pricing_id,
            sum(
                case when pricing_line_category = 'offerer revenue' then - pricing_line_amount end
            ) as revenue_cents,
            sum(
                case
                    when pricing_line_category = 'offerer contribution' then pricing_line_amount
                end
            ) as contribution_cents
        from {{ source('raw', 'applicative_database_pricing_line') }}
        group by pricing_id
    ),

    invoices as (
        select
            ic.cashflow_id,
            i.invoice_id,
            i.invoice_reference,
            i.invoice_creation_date,
            i.invoice_amount
        from {{ source('raw', 'applicative_database_invoice_cashflow') }} as ic
        inner join
            {{ source('raw', 'applicative_database_invoice') }} as i on ic.invoice_id = i.invoice_id
    )

select
    {{ as_id('p.pricing_id') }} as pricing_id,
    case
        when p.booking_id is null then 'collective' else coalesce(d.deposit_type, 'unknown')
    end as booking_type,
    {{ as_id('p.booking_id') }} as booking_id,
    {{ as_id('p.collective_booking_id') }} as collective_booking_id,
    coalesce(b.booking_status, cb.collective_booking_status) as booking_status,
    coalesce(b.booking_used_date, cb.collective_booking_used_date) as booking_used_date,
    {{ as_id('p.venue_id') }} as venue_id,
    v.offerer_id,
    cb.educational_institution_id,
    cast(p.pricing_status as {{ dbt.type_string() }}) as pricing_status,
    {{ as_ts('p.pricing_creation_date') }} as pricing_creation_date,
    {{ as_ts('p.pricing_value_date') }} as pricing_value_date,
    cast(p.pricing_standard_rule as {{ dbt.type_string() }}) as pricing_rule,
    {{ as_float('-p.pricing_amount') }} / 100 as reimbursed_amount,
    {{ as_float('l.revenue_cents') }} / 100 as offerer_revenue,
    {{ as_float('l.contribution_cents') }} / 100 as offerer_contribution,
    {{ safe_divide(as_float('-p.pricing_amount'), 'l.revenue_cents') }} as reimbursement_rate,
    {{ as_id('c.cashflow_id') }} as cashflow_id,
    cast(c.cashflow_status as {{ dbt.type_string() }}) as cashflow_status,
    {{ as_ts('c.cashflow_creation_date') }} as cashflow_creation_date,
    {{ as_float('-c.cashflow_amount') }} / 100 as cashflow_amount,
    cast(cbt.cashflow_batch_label as {{ dbt.type_string() }}) as cashflow_batch_label,
    {{ as_ts('cbt.cashflow_batch_creation_date') }} as cashflow_batch_creation_date,
    {{ as_id('i.invoice_id') }} as invoice_id,
    cast(i.invoice_reference as {{ dbt.type_string() }}) as invoice_reference,
    {{ as_ts('i.invoice_creation_date') }} as invoice_creation_date,
    {{ as_float('i.invoice_amount') }} / 100 as invoice_amount
from {{ source('raw', 'applicative_database_pricing') }} as p
left join lines as l on p.pricing_id = l.pricing_id
left join
    {{ ref('int_applicative__booking_base') }} as b on {{ as_id('p.booking_id') }} = b.booking_id
left join {{ ref('int_applicative__deposit') }} as d on b.deposit_id = d.deposit_id
left join
    {{ ref('int_applicative__collective_booking') }} as cb
    on {{ as_id('p.collective_booking_id') }} = cb.collective_booking_id
left join {{ ref('int_applicative__venue') }} as v on {{ as_id('p.venue_id') }} = v.venue_id
left join
    {{ source('raw', 'applicative_database_cashflow_pricing') }} as cp
    on p.pricing_id = cp.pricing_id
left join
    {{ source('raw', 'applicative_database_cashflow') }} as c on cp.cashflow_id = c.cashflow_id
left join
    {{ source('raw', 'applicative_database_cashflow_batch') }} as cbt
    on c.cashflow_batch_id = cbt.cashflow_batch_id
left join invoices as i on c.cashflow_id = i.cashflow_id
