-- pass Culture reimburses a venue's individual bookings in full up to 20 000 EUR of revenue in a
-- calendar year, then 95% up to 40 000 EUR, 92% up to 150 000 EUR and 90% beyond (the venue's
-- revenue of the year counted up to and including the booking, physical offers only); digital
-- offers are not reimbursed, school bookings are in full. Fails on each pricing whose amount is
-- not its revenue times the rate its rank in the venue's year gives.
with
    physical as (
        select
            pricing_id,
            sum(offerer_revenue) over (
                partition by venue_id, extract(year from pricing_value_date)
                order by pricing_value_date, length(pricing_id), pricing_id
                rows between unbounded preceding and current row
            ) as venue_year_revenue
        from {{ ref('mrt_finance__booking_reimbursement') }}
        where booking_type != 'collective' and reimbursement_rate > 0
    ),

    expected as (
        select
            r.pricing_id,
            r.offerer_revenue,
            r.reimbursed_amount,
            case
                when r.booking_type = 'collective'
                then 1.0
                when p.pricing_id is null
                then 0.0
                when p.venue_year_revenue <= 20000
                then 1.0
                when p.venue_year_revenue <= 40000
                then 0.95
                when p.venue_year_revenue <= 150000
                then 0.92
                else 0.90
            end as expected_rate
        from {{ ref('mrt_finance__booking_reimbursement') }} as r
        left join physical as p on r.pricing_id = p.pricing_id
    )

select *
from expected
where abs(reimbursed_amount - offerer_revenue * expected_rate) > 0.011
