-- Schools' (EPLE: collèges and lycées) activity per school year: school bookings (requested,
-- confirmed, used, reimbursed) and their amounts, split between the two parts of the school year
-- (September to December, January to August, by the event's date), and the teachers' activity on
-- Adage that year.
with
    bookings as (
        select
            educational_institution_id,
            educational_year_id,
            case
                when extract(month from collective_stock_beginning_date) >= 9
                then 'sept_dec'
                else 'jan_aug'
            end as period,
            collective_booking_status,
            collective_booking_amount
        from {{ ref('int_applicative__collective_booking') }}
    ),

    per_year as (
        select
            educational_institution_id,
            educational_year_id,
            count(
                case when collective_booking_status != 'CANCELLED' then 1 end
            ) as theoric_booking_count,
            count(
                case when collective_booking_status not in ('CANCELLED', 'PENDING') then 1 end
            ) as confirmed_booking_count,
            coalesce(
                sum(
                    case
                        when collective_booking_status != 'CANCELLED' then collective_booking_amount
                    end
                ),
                0
            ) as theoric_amount_spent,
            coalesce(
                sum(
                    case
                        when collective_booking_status not in ('CANCELLED', 'PENDING')
                        then collective_booking_amount
                    end
                ),
                0
            ) as real_amount_spent,
            coalesce(
                sum(
                    case
                        when
                            collective_booking_status not in ('CANCELLED', 'PENDING')
                            and period = 'sept_dec'
                        then collective_booking_amount
                    end
                ),
                0
            ) as sept_dec_real_amount_spent,
            coalesce(
                sum(
                    case
                        when
                            collective_booking_status not in ('CANCELLED', 'PENDING')
                            and period = 'jan_aug'
                        then collective_booking_amount
                    end
                ),
                0
            ) as jan_aug_real_amount_spent,
            coalesce(
                sum(
                    case
                        when collective_booking_status = 'REIMBURSED' then collective_booking_amount
                    end
                ),
                0
            ) as reimbursed_amount
        from bookings
        group by educational_institution_id, educational_year_id
    ),

    adage as (
        select
            educational_institution_id,
            {{ dbt.concat([
                "cast(extract(year from event_date) - case when extract(month from event_date) >= 9 then 0 else 1 end as " ~ dbt.type_string() ~ ")",
                "'-'",
                "cast(extract(year from event_date) + case when extract(month from event_date) >= 9 then 1 else 0 end as " ~ dbt.type_string() ~ ")",
            ]) }}
            as educational_year_id,
            count(distinct user_id) as adage_user_count,
            count(distinct session_id) as adage_session_count
        from {{ ref('mrt_collective__adage_log') }}
        where educational_institution_id is not null
        group by 1, 2
    )

select
    {{ composite_key(['y.educational_institution_id', 'y.educational_year_id']) }}
    as institution_year_id,
    y.educational_institution_id,
    y.educational_year_id,
    i.institution_uai,
    i.institution_name,
    i.institution_type,
    i.institution_city,
    i.institution_department_code,
    geo.region_name as institution_region_name,
    y.theoric_booking_count,
    y.confirmed_booking_count,
    y.theoric_amount_spent,
    y.real_amount_spent,
    y.sept_dec_real_amount_spent,
    y.jan_aug_real_amount_spent,
    y.reimbursed_amount,
    coalesce(a.adage_user_count, 0) as adage_user_count,
    coalesce(a.adage_session_count, 0) as adage_session_count
from per_year as y
left join
    {{ ref('mrt_global__educational_institution') }} as i
    on y.educational_institution_id = i.educational_institution_id
left join
    {{ ref('int_seed_files__department_region') }} as geo
    on i.institution_department_code = geo.department_code
left join
    adage as a
    on y.educational_institution_id = a.educational_institution_id
    and y.educational_year_id = a.educational_year_id
