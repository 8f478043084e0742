{#
  humanize_id(expr): the app's public id of an integer id, the same on DuckDB and BigQuery.
  Python reference (pcapi.utils.human_ids.humanize):
      b32encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).replace("O", "8").replace("I", "9").rstrip("=")
  In SQL: the value has B = 8 * <bytes> bits and ceil(B / 5) base32 characters; character i is the
  5-bit group ending at bit B - 5 * (i + 1) (the last group is padded with zero bits on the right).
  Only shifts, masks, substr and || are used: both engines have them with the same meaning (shift
  counts are kept >= 0 even in the branches not taken, as BigQuery rejects negative ones).
#}
{% macro humanize_id(expr) -%}
    {%- set alphabet = "'ABCDEFGH9JKLMN8PQRSTUVWXYZ234567'" -%}
    {%- set x = "cast(" ~ expr ~ " as " ~ dbt.type_bigint() ~ ")" -%}
    {%- set bits -%}
        (8 * (case {% for b in range(1, 8) %}when {{ x }} < {{ 2 ** (8 * b) }} then {{ b }} {% endfor %}else 8 end))
    {%- endset -%}
    (
        case
            when {{ x }} is null
            then null
            when {{ x }} <= 0
            then ''
            else
                {%- for i in range(13) %}
                    {%- set shift = bits ~ " - " ~ (5 * (i + 1)) %}
                    {% if not loop.first %}
                        || {% endif %} (
                        case
                            when {{ bits }} <= {{ 5 * i }}
                            then ''
                            when {{ shift }} >= 0
                            then
                                substr(
                                    {{ alphabet }},
                                    cast(
                                        (({{ x }} >> greatest({{ shift }}, 0)) & 31)
                                        + 1 as {{ dbt.type_bigint() }}
                                    ),
                                    1
                                )
                            else
                                substr(
                                    {{ alphabet }},
                                    cast(
                                        ((({{ x }} & 31) << greatest(0 - ({{ shift }}), 0)) & 31)
                                        + 1 as {{ dbt.type_bigint() }}
                                    ),
                                    1
                                )
                        end
                    )
                {%- endfor %}
        end
    )
{%- endmacro %}

{#
  dehumanize_id(expr): the inverse, public id -> integer (null for null). The k characters carry
  5k bits of which the last 5k - 8 * floor(5k / 8) are padding; each character's value is shifted
  into place directly (never the whole sum) so that 13-character ids stay within 64 bits.
#}
{% macro dehumanize_id(expr) -%}
    {%- set alphabet = "'ABCDEFGH9JKLMN8PQRSTUVWXYZ234567'" -%}
    {%- set s = "upper(cast(" ~ expr ~ " as " ~ dbt.type_string() ~ "))" -%}
    {%- set k = "length(" ~ s ~ ")" -%}
    {%- set pad = "(5 * " ~ k ~ " - 8 * cast(floor(5 * " ~ k ~ " / 8) as " ~ dbt.type_bigint() ~ "))" -%}
    (
        case
            when {{ expr }} is null
            then null
            when {{ k }} = 0
            then 0
            else
                0
                {%- for i in range(1, 14) %}
                    {%- set c = "(strpos(" ~ alphabet ~ ", substr(" ~ s ~ ", " ~ i ~ ", 1)) - 1)" %}
                    + (
                        case
                            when {{ k }} < {{ i }}
                            then 0
                            when {{ k }} = {{ i }}
                            then cast({{ c }} as {{ dbt.type_bigint() }}) >> {{ pad }}
                            else
                                cast({{ c }} as {{ dbt.type_bigint() }})
                                << greatest(5 * ({{ k }} - {{ i }}) - {{ pad }}, 0)
                        end
                    )
                {%- endfor %}
        end
    )
{%- endmacro %}
