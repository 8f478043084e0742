-- Pro users and the structures (offerers) they work for: validated attachments of active accounts,
-- with the account's details and its rank among the offerer's users (1 = first attached).
select
    {{ as_id('uo.user_offerer_id') }} as user_offerer_id,
    {{ as_id('uo.offerer_id') }} as offerer_id,
    u.user_id,
    row_number() over (
        partition by uo.offerer_id order by uo.user_offerer_creation_date, uo.user_offerer_id
    ) as user_affiliation_rank,
    {{ as_ts('uo.user_offerer_creation_date') }} as user_offerer_creation_date,
    u.user_creation_date,
    u.user_role,
    u.user_department_code,
    u.user_postal_code,
    u.user_city,
    u.user_is_active,
    u.user_last_connection_date,
    u.user_has_enabled_marketing_email,
    u.user_has_enabled_marketing_push
from {{ source('raw', 'applicative_database_user_offerer') }} as uo
inner join {{ ref('int_applicative__user') }} as u on {{ as_id('uo.user_id') }} = u.user_id
where uo.user_offerer_validation_status = 'VALIDATED' and u.user_is_active
