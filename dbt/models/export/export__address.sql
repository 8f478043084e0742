-- The ministry's address export: the app's addresses normalised against the Base Adresse Nationale
-- (places where offers happen, not people's homes).
select
    {{ as_id("address_id") }} as address_id,
    address_ban_id,
    address_insee_code,
    address_street,
    address_postal_code,
    address_city,
    {{ as_float("address_latitude") }} as address_latitude,
    {{ as_float("address_longitude") }} as address_longitude,
    address_department_code,
    {{ iris_of(as_float("address_latitude"), as_float("address_longitude")) }} as address_iris_code
from {{ source("raw", "applicative_database_address") }}
