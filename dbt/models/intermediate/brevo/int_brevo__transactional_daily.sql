{{ config(schema='int_brevo') }}
-- Transactional e-mails per day, audience and template: recipients and delivered / opened /
-- unsubscribed.
{%- set cols = [('event_date', 'date'), ('audience', 'string'), ('template_id', 'bigint'), ('tag', 'string'),
    ('email_hash', 'string'), ('delivered_count', 'bigint'), ('opened_count', 'bigint'),
    ('unsubscribed_count', 'bigint')] %}

select
    event_date,
    audience,
    template_id,
    tag,
    count(distinct email_hash) as recipient_count,
    sum(delivered_count) as delivered_count,
    sum(opened_count) as opened_count,
    sum(unsubscribed_count) as unsubscribed_count
from {{ source_or_empty('raw_brevo', 'brevo_transactional', cols) }}
group by event_date, audience, template_id, tag
