{#
  The record-linkage table written by `data-gcp ml link` (ml.offer_item_link: offer id -> linked item id),
  or none when the job has not run yet in this warehouse (a fresh checkout, a project without ML jobs):
  models then keep the app's item id (product, else offer).
#}
{% macro offer_item_link_relation() -%}
    {%- if not execute or (model is defined and model.resource_type == 'unit_test') -%}
        {{ return(none) }}  {# unit tests give every input; the link table is not one of them #}
    {%- endif -%}
    {%- if not flags.INTROSPECT -%}
        {#- a compile that may not query the warehouse (`--no-introspect`): the production shape, where
            the ML item jobs have written the link table -#}
        {{ return(api.Relation.create(database=target.database, schema=data_gcp_dataset('ml'), identifier='offer_item_link')) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema=data_gcp_dataset('ml'), identifier='offer_item_link')) }}
{%- endmacro %}
