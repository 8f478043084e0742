-- Current state of offers: clean types, taxonomy, item id, stock aggregates and bookability.
-- item_id: the work the offer sells, from record linkage (ml.offer_item_link) when it has run,
-- else the
-- app's own grouping (product, else the offer itself).
{{ config(cluster_by=bq_cluster(['offer_category_id', 'venue_id'])) }}
{% set item_link = offer_item_link_relation() %}

with
    stock_agg as (
        select
            offer_id,
            count(*) as stock_count,
            count(case when stock_is_bookable then 1 end) as bookable_stock_count,
            min(case when stock_is_bookable then stock_price end) as offer_bookable_min_price,
            min(stock_price) as offer_min_price,
            max(stock_price) as offer_max_price,
            min(
                case when stock_is_bookable then stock_beginning_date end
            ) as next_stock_beginning_date,
            max(stock_beginning_date) as last_stock_beginning_date
        from {{ ref('int_applicative__stock') }}
        where not stock_is_soft_deleted
        group by offer_id
    ),

    offer as (
        select
            {{ as_id('offer_id') }} as offer_id,
            {{ humanize_id('offer_id') }} as offer_humanized_id,
            {{ as_id('offer_product_id') }} as offer_product_id,
            {{ item_id('offer_product_id', 'offer_id') }} as app_item_id,
            {{ as_id('venue_id') }} as venue_id,
            cast(offer_subcategory_id as {{ dbt.type_string() }}) as offer_subcategory_id,
            cast(offer_name as {{ dbt.type_string() }}) as offer_name,
            cast(offer_description as {{ dbt.type_string() }}) as offer_description,
            {{ as_bool('offer_is_active') }} as offer_is_active,
            cast(offer_validation as {{ dbt.type_string() }}) as offer_validation,
            coalesce({{ as_bool('offer_is_duo') }}, false) as offer_is_duo,
            cast(offer_ean as {{ dbt.type_string() }}) as offer_ean,
            {{ json_string('offer_extra_data', 'author') }} as offer_author,
            {{ json_string('offer_extra_data', 'performer') }} as offer_performer,
            {{ as_ts('offer_creation_date') }} as offer_created_at,
            {{ as_date('offer_creation_date') }} as offer_creation_date,
            {{ as_ts('offer_updated_date') }} as offer_updated_date,
            {{ as_ts('offer_publication_date') }} as offer_publication_date
        from {{ source('raw', 'applicative_database_offer') }}
    )

select
    offer.*,
    {% if item_link %} coalesce(link.item_id, offer.app_item_id)
    {% else %} offer.app_item_id
    {% endif %} as item_id,
    sc.category_id as offer_category_id,
    sc.search_group_name,
    coalesce(sc.is_event, false) as offer_is_event,
    coalesce(sc.is_digital, false) as offer_is_digital,
    coalesce(sc.is_underage_recommendable, false) as offer_is_underage_recommendable,
    coalesce(stock_agg.stock_count, 0) as stock_count,
    coalesce(stock_agg.bookable_stock_count, 0) as bookable_stock_count,
    stock_agg.offer_bookable_min_price,
    stock_agg.offer_min_price,
    stock_agg.offer_max_price,
    stock_agg.next_stock_beginning_date,
    stock_agg.last_stock_beginning_date,
    (
        coalesce(offer.offer_is_active, false)
        and offer.offer_validation = 'APPROVED'
        and coalesce(stock_agg.bookable_stock_count, 0) > 0
    ) as offer_is_bookable
from offer
left join
    {{ ref('int_applicative__subcategory') }} as sc
    on offer.offer_subcategory_id = sc.subcategory_id
left join stock_agg on offer.offer_id = stock_agg.offer_id
{% if item_link %}
    left join
        {{ item_link }} as link
        on cast(link.offer_id as {{ dbt.type_string() }})
        = cast(offer.offer_id as {{ dbt.type_string() }})
{% endif %}
