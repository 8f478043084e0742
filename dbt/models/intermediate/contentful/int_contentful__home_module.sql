{{ config(schema='int_contentful') }}
-- The modules of each home page in the latest Contentful snapshot, in display order.
{%- set entry_cols = [('snapshot_date', 'date'), ('entry_id', 'string'), ('content_type', 'string'),
    ('title', 'string'), ('fields', 'string'), ('created_at', 'timestamp'), ('updated_at', 'timestamp')] %}
{%- set link_cols = [('snapshot_date', 'date'), ('parent', 'string'), ('child', 'string'),
    ('field_name', 'string'), ('position', 'bigint')] %}

with
    entries as (
        select *
        from {{ source_or_empty('raw_contentful', 'contentful_entry', entry_cols) }}
        where
            snapshot_date = (
                select max(snapshot_date)
                from {{ source_or_empty('raw_contentful', 'contentful_entry', entry_cols) }}
            )
    ),

    links as (
        select *
        from {{ source_or_empty('raw_contentful', 'contentful_relationship', link_cols) }}
        where
            snapshot_date = (
                select max(snapshot_date)
                from {{ source_or_empty('raw_contentful', 'contentful_relationship', link_cols) }}
            )
    )

select
    home.entry_id as home_entry_id,
    home.title as home_title,
    links.position as module_position,
    module.entry_id as module_entry_id,
    module.content_type as module_type,
    module.title as module_title,
    module.updated_at as module_updated_at,
    home.snapshot_date
from entries as home
inner join links on links.parent = home.entry_id and links.field_name = 'modules'
inner join entries as module on module.entry_id = links.child
where home.content_type = 'homepageNatif'
