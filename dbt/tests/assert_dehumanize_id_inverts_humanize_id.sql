-- Every offer's and venue's public id decodes back to its id (humanize_id and dehumanize_id agree).
select 'offer' as kind, offer_id as id, offer_humanized_id as humanized_id
from {{ ref('mrt_global__offer') }}
where {{ dehumanize_id('offer_humanized_id') }} <> {{ as_int('offer_id') }}
union all
select 'venue' as kind, venue_id as id, venue_humanized_id as humanized_id
from {{ ref('mrt_global__venue') }}
where {{ dehumanize_id('venue_humanized_id') }} <> {{ as_int('venue_id') }}
