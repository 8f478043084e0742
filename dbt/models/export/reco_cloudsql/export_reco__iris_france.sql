-- The app's `iris_france` table: IRIS areas with their centroid and contour (WKT), where the app
-- places a user's position.
select iris_code as id, iris_code, iris_centroid as centroid, iris_shape as shape
from {{ ref("int_seed_files__geo_iris") }}
