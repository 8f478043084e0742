-- People behind offers (authors, performers): their products, offers, venues and bookings.
with
    links as (
        select
            cast(artist_id as {{ dbt.type_string() }}) as artist_id,
            {{ as_id('product_id') }} as product_id,
            cast(artist_type as {{ dbt.type_string() }}) as artist_type
        from {{ source('raw', 'applicative_database_product_artist_link') }}
    ),

    offers as (
        select
            l.artist_id,
            count(distinct l.product_id) as artist_product_count,
            count(distinct l.artist_type) as artist_type_count,
            count(distinct o.offer_id) as artist_offer_count,
            count(
                distinct case when o.offer_is_bookable then o.offer_id end
            ) as artist_bookable_offer_count,
            count(distinct o.offer_category_id) as artist_offer_category_count,
            count(distinct o.venue_id) as artist_venue_count,
            {{ as_int('coalesce(sum(o.booking_count), 0)') }} as artist_booking_count
        from links as l
        left join {{ ref('mrt_global__offer') }} as o on l.product_id = o.offer_product_id
        group by l.artist_id
    )

select
    cast(a.artist_id as {{ dbt.type_string() }}) as artist_id,
    cast(a.artist_name as {{ dbt.type_string() }}) as artist_name,
    cast(a.artist_description as {{ dbt.type_string() }}) as artist_description,
    {{ as_ts('a.artist_creation_date') }} as artist_creation_date,
    coalesce(o.artist_product_count, 0) as artist_product_count,
    coalesce(o.artist_type_count, 0) as artist_type_count,
    coalesce(o.artist_offer_count, 0) as artist_offer_count,
    coalesce(o.artist_bookable_offer_count, 0) as artist_bookable_offer_count,
    coalesce(o.artist_offer_category_count, 0) as artist_offer_category_count,
    coalesce(o.artist_venue_count, 0) as artist_venue_count,
    coalesce(o.artist_booking_count, 0) as artist_booking_count
from {{ source('raw', 'applicative_database_artist') }} as a
left join offers as o on cast(a.artist_id as {{ dbt.type_string() }}) = o.artist_id
