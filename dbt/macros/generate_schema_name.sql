{#
  Folders -> datasets. A model's `schema` config (set per folder in dbt_project.yml) is its logical
  dataset: int_<domain>, analytics, ml, export, snapshot. Locally (DuckDB targets `local`, `ci`) the
  dataset is used as is, so that `select * from ml.ml_reco__recommendable_item` works against the
  warehouse file; on BigQuery (targets dev/stg/prod) it is suffixed `_<target name>` exactly like
  data_gcp.config.Settings.dataset() does (`ml_prod`).
  Unlike dbt's default, the target schema is never prefixed: one dataset per layer, shared by all runs.
  An audited model (`meta: {audit: true}`) is built into `audit_<dataset>` and published to
  `<dataset>` once its tests pass (macros/audit_publish.sql).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set logical = (custom_schema_name or target.schema) | trim -%}
    {#- an audited model is built into audit_<dataset>, then published (macros/audit_publish.sql) -#}
    {%- if node is not none and is_audited(node) -%}
        {%- set logical = audit_prefix() ~ logical -%}
    {%- endif -%}
    {{ data_gcp_dataset(logical) }}
{%- endmacro %}

{# The physical dataset of a logical one for the current target (also used by sources). #}
{% macro data_gcp_dataset(logical) -%}
    {%- if target.type == 'bigquery' and not logical.endswith('_' ~ target.name) -%}
        {{ logical }}_{{ target.name }}
    {%- else -%} {{ logical }}
    {%- endif -%}
{%- endmacro %}
