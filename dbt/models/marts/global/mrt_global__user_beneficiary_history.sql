-- Who was a beneficiary when, with which deposit: one period per deposit, from its grant to the
-- next deposit's grant or its expiry, whichever comes first. The nightly snapshot of the users'
-- beneficiary state tells when each period was observed as the user's current one (null for
-- periods that ended before the snapshot started).
with
    periods as (
        select
            deposit_id,
            user_id,
            deposit_type,
            deposit_amount,
            deposit_creation_date as beneficiary_from,
            case
                when
                    lead(deposit_creation_date) over (
                        partition by user_id order by deposit_creation_date, deposit_id
                    )
                    < coalesce(deposit_expiration_date, {{ as_ts("'9999-12-31'") }})
                then
                    lead(deposit_creation_date) over (
                        partition by user_id order by deposit_creation_date, deposit_id
                    )
                else deposit_expiration_date
            end as beneficiary_to,
            row_number() over (
                partition by user_id order by deposit_creation_date, deposit_id
            ) as beneficiary_period_rank
        from {{ ref("int_applicative__deposit") }}
    ),

    observed as (
        select
            current_deposit_id as deposit_id,
            min(dbt_valid_from) as first_seen_at,
            max(coalesce(dbt_valid_to, dbt_updated_at)) as last_seen_at,
            count(*) as snapshot_version_count,
            max(user_role) as observed_user_role
        from {{ ref("snapshot__user_beneficiary") }}
        where current_deposit_id is not null
        group by current_deposit_id
    )

select
    p.deposit_id as beneficiary_period_id,
    p.user_id,
    p.deposit_id,
    p.deposit_type,
    p.deposit_amount,
    p.beneficiary_period_rank,
    p.beneficiary_from,
    p.beneficiary_to,
    p.beneficiary_to is null
    or {{ as_date("p.beneficiary_to") }} >= {{ as_of_date() }} as beneficiary_period_is_current,
    o.observed_user_role,
    o.first_seen_at as snapshot_first_seen_at,
    o.last_seen_at as snapshot_last_seen_at,
    coalesce(o.snapshot_version_count, 0) as snapshot_version_count
from periods as p
left join observed as o on p.deposit_id = o.deposit_id
