{#
  The tables the monitoring marts watch: (source, table, timestamp column, days after which the
  table is late). The app's activity tables and event logs grow every day; referentials do not and
  are left out (their freshness is `null` in the sources).
#}
{% macro monitored_tables() -%}
    {{ return([
        ('raw', 'applicative_database_user', 'user_creation_date', 2),
        ('raw', 'applicative_database_deposit', 'deposit_creation_date', 2),
        ('raw', 'applicative_database_offer', 'offer_creation_date', 2),
        ('raw', 'applicative_database_stock', 'stock_creation_date', 2),
        ('raw', 'applicative_database_booking', 'booking_creation_date', 2),
        ('raw', 'applicative_database_favorite', 'favorite_creation_date', 2),
        ('raw', 'applicative_database_reco_display_log', 'displayed_at', 1),
        ('raw', 'firebase_events', 'event_timestamp', 1),
        ('raw', 'adage_logs', 'event_timestamp', 3),
    ]) }}
{%- endmacro %}
