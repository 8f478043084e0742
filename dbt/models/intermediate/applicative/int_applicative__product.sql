select
    {{ as_id('product_id') }} as product_id,
    cast(product_name as {{ dbt.type_string() }}) as product_name,
    cast(product_subcategory_id as {{ dbt.type_string() }}) as product_subcategory_id,
    cast(product_ean as {{ dbt.type_string() }}) as product_ean,
    {{ json_string('product_extra_data', 'author') }} as product_author,
    {{ json_string('product_extra_data', 'performer') }} as product_performer,
    {{ json_string('product_extra_data', 'genre') }} as product_genre,
    {{ as_int('product_last_30_days_booking') }} as product_last_30_days_booking
from {{ source('raw', 'applicative_database_product') }}
