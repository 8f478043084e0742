-- The cultural partner a venue counts for, as the ministry counts partners: a permanent venue is
-- a partner of its own, any other venue (virtual, occasional) counts for its offerer.
select
    venue_id,
    offerer_id,
    case
        when coalesce(venue_is_permanent, false) and not coalesce(venue_is_virtual, false)
        then {{ dbt.concat(["'venue-'", "venue_id"]) }}
        else {{ dbt.concat(["'offerer-'", "offerer_id"]) }}
    end as partner_id,
    case
        when coalesce(venue_is_permanent, false) and not coalesce(venue_is_virtual, false)
        then 'PERMANENT_VENUE'
        else 'OFFERER'
    end as partner_type
from {{ ref("int_applicative__venue") }}
