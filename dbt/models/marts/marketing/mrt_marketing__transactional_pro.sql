-- Transactional e-mails sent to professionals (booking notifications, offer validations...) per
-- day and template: recipients, delivered, opened, unsubscribed, and the open rate.
select
    {{ composite_key(['event_date', 'template_id', 'tag']) }} as transactional_pro_day_id,
    event_date,
    {{ as_id('template_id') }} as brevo_template_id,
    tag as brevo_tag,
    recipient_count,
    delivered_count,
    opened_count,
    unsubscribed_count,
    {{ safe_divide(as_float('opened_count'), 'delivered_count') }} as open_rate
from {{ ref('int_brevo__transactional_daily') }}
where audience = 'pro'
