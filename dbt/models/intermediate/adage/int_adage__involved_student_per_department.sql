{{ config(schema='int_adage') }}
-- Students involved in pass Culture collective offers per school year and department (Adage),
-- next to
-- the app's collective bookings of the schools of that department and school year.
{%- set cols = [('school_year', 'string'), ('scope', 'string'), ('level', 'string'),
    ('department_code', 'string'),
    ('total_students', 'bigint'), ('involved_students', 'bigint'), ('institutions', 'bigint')] %}

with
    adage as (
        select
            school_year,
            department_code,
            sum(total_students) as total_students,
            sum(involved_students) as involved_students,
            count(distinct level) as level_count
        from {{ source_or_empty('raw_adage', 'adage_involved_student', cols) }}
        where scope = 'departement'
        group by school_year, department_code
    ),

    bookings as (
        select
            cast(b.educational_year_id as {{ dbt.type_string() }}) as school_year,
            cast(i.institution_department_code as {{ dbt.type_string() }}) as department_code,
            count(*) as collective_booking_count,
            count(distinct b.educational_institution_id) as booking_institution_count
        from {{ source('raw', 'applicative_database_collective_booking') }} as b
        inner join
            {{ source('raw', 'applicative_database_educational_institution') }} as i
            on i.educational_institution_id = b.educational_institution_id
        where b.collective_booking_status != 'CANCELLED'
        group by 1, 2
    )

select
    a.school_year,
    a.department_code,
    a.total_students,
    a.involved_students,
    {{ safe_divide('a.involved_students', 'a.total_students') }} as involved_student_share,
    a.level_count,
    coalesce(b.collective_booking_count, 0) as collective_booking_count,
    coalesce(b.booking_institution_count, 0) as booking_institution_count
from adage as a
left join bookings as b on b.school_year = a.school_year and b.department_code = a.department_code
