select
    {{ as_id('favorite_id') }} as favorite_id,
    {{ as_id('user_id') }} as user_id,
    {{ as_id('offer_id') }} as offer_id,
    {{ as_ts('favorite_creation_date') }} as favorite_creation_date
from {{ source('raw', 'applicative_database_favorite') }}
