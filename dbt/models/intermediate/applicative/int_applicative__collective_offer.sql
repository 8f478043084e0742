-- Collective offers (school outings, workshops) with their venue, offerer and stock.
with
    offer as (
        select
            {{ as_id("collective_offer_id") }} as collective_offer_id,
            {{ as_id("venue_id") }} as venue_id,
            cast(collective_offer_name as {{ dbt.type_string() }}) as collective_offer_name,
            cast(collective_offer_students as {{ dbt.type_string() }}) as collective_offer_students,
            cast(collective_offer_format as {{ dbt.type_string() }}) as collective_offer_format,
            coalesce(
                {{ as_bool("collective_offer_is_active") }}, false
            ) as collective_offer_is_active,
            cast(
                collective_offer_validation as {{ dbt.type_string() }}
            ) as collective_offer_validation,
            {{ as_id("educational_institution_id") }} as educational_institution_id,
            {{ as_ts("collective_offer_creation_date") }} as collective_offer_created_at,
            {{ as_date("collective_offer_creation_date") }} as collective_offer_creation_date,
            {{ as_ts("collective_offer_updated_date") }} as collective_offer_updated_date
        from {{ source("raw", "applicative_database_collective_offer") }}
    ),

    stock as (
        select
            collective_offer_id,
            count(*) as collective_stock_count,
            min(collective_stock_price) as collective_offer_min_price,
            max(collective_stock_price) as collective_offer_max_price,
            min(collective_stock_beginning_date) as collective_offer_first_beginning_date,
            max(collective_stock_booking_limit_date) as collective_offer_last_booking_limit_date
        from {{ ref("int_applicative__collective_stock") }}
        group by collective_offer_id
    )

select
    offer.*,
    v.offerer_id,
    v.venue_department_code,
    coalesce(stock.collective_stock_count, 0) as collective_stock_count,
    stock.collective_offer_min_price,
    stock.collective_offer_max_price,
    stock.collective_offer_first_beginning_date,
    stock.collective_offer_last_booking_limit_date
from offer
left join {{ ref("int_applicative__venue") }} as v on offer.venue_id = v.venue_id
left join stock on offer.collective_offer_id = stock.collective_offer_id
