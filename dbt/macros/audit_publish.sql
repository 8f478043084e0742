{#
  Audit before publish. A model with `meta: {audit: true}` (the marts, the exports and the app's
  core entities: what analysts, dashboards and partners read) is built into the audit dataset
  `audit_<dataset>`, where its tests and the models downstream read it. Once a `dbt build` has built
  it and none of its tests failed, `publish_audited` (on-run-end) copies it to `<dataset>`, the only
  place readers look: a model whose tests fail is never published, readers keep the previous version.
  Its own tests (those on it alone) must all have run in that build: a build that leaves them out
  (`--exclude test_type:data`) or `dbt run` publishes nothing.
  BigQuery: a table copy job (WRITE_TRUNCATE: atomic, keeps partitioning and clustering); DuckDB:
  CREATE OR REPLACE TABLE ... AS SELECT (one transaction). An audited view (the exports) is published
  as a table of its rows, so the published copy never reads an unaudited table.
  Tests on several models (relationships) that Airflow runs after the model tasks do not hold a
  publication back: they fail the run, and the next build audits again.
#}
{% macro is_audited(node) -%}
    {{- return(node.resource_type == 'model' and (node.config.get('meta') or {}).get('audit', false)) -}}
{%- endmacro %}

{% macro audit_prefix() -%} {{- return('audit_') -}} {%- endmacro %}

{% macro publish_audited(results) %}
    {%- if not execute or flags.WHICH != 'build' -%} {{ return('') }} {%- endif -%}
    {#- a model's own tests (on it alone) must have run and passed; any failing test on it holds it -#}
    {%- set own_tests = {} -%}
    {%- for uid, node in graph.nodes.items() -%}
        {%- if node.resource_type == 'test' and node.depends_on.nodes | length == 1 -%}
            {%- do own_tests.setdefault(node.depends_on.nodes[0], []).append(uid) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set built = [] -%}
    {%- set held = [] -%}
    {%- set passed = [] -%}
    {%- for res in results -%}
        {%- set node = res.node -%}
        {%- if node.resource_type == 'model' and is_audited(node) and res.status == 'success' -%}
            {%- do built.append(node) -%}
        {%- elif node.resource_type == 'test' and res.status in ('pass', 'warn') -%}
            {%- do passed.append(node.unique_id) -%}
        {%- elif node.resource_type == 'test' and res.status in ('fail', 'error') -%}
            {%- if node.attached_node -%} {%- do held.append(node.attached_node) -%}
            {%- else -%} {%- do held.extend(node.depends_on.nodes) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set schemas = [] -%}
    {%- for node in built -%}
        {%- set untested = own_tests.get(node.unique_id, []) | reject('in', passed) | list -%}
        {%- if node.unique_id in held -%}
            {{ log("not published (a test failed; readers keep the previous version): " ~ node.name, info=true) }}
        {%- elif untested -%}
            {{ log("not published (" ~ untested | length ~ " of its tests did not run): " ~ node.name, info=true) }}
        {%- else -%} {%- do publish_relation(node, schemas) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}

{% macro publish_relation(node, schemas) %}
    {%- set audit = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
    {%- if audit is none -%}
        {{ exceptions.raise_compiler_error("publish: " ~ node.name ~ " was built but " ~ node.schema ~ "." ~ node.alias ~ " is missing") }}
    {%- endif -%}
    {%- set published = api.Relation.create(
        database=node.database,
        schema=node.schema[audit_prefix() | length:],
        identifier=node.alias,
        type='table',
    ) -%}
    {#- each published dataset created once per run (`schemas`: those done) -#}
    {%- if published.schema not in schemas -%}
        {%- do adapter.create_schema(published) -%} {%- do schemas.append(published.schema) -%}
    {%- endif -%}
    {%- if target.type == 'bigquery' and audit.type == 'table' -%}
        {%- do adapter.copy_table(audit, published, 'table') -%}
    {%- else -%}
        {%- set old = adapter.get_relation(database=published.database, schema=published.schema, identifier=published.identifier) -%}
        {%- if old is not none and old.type != 'table' -%} {%- do adapter.drop_relation(old) -%}
        {%- endif -%}
        {%- call statement('publish_' ~ node.name) -%}
            create or replace table {{ published }} as select * from {{ audit }}
        {%- endcall -%}
        {#- committed now: a hook's open transaction is rolled back when dbt closes its connection -#}
        {%- do adapter.commit() -%}
    {%- endif -%}
    {{ log("published " ~ published ~ " (tests passed)", info=true) }}
{% endmacro %}
