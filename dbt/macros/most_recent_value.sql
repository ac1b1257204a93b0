{#-
    A user's username and privacy are what their most recent comment says. When an incremental
    build merges a batch into a current row (the pairs and dim_user, docs/decisions/0004), the
    current row's value stands unless the batch holds a comment at least as recent; a null from
    the batch never replaces a known value. Both relations carry last_comment_at.
-#}
{% macro most_recent_value(current, incoming, column) -%}
    case
        when {{ current }}.last_comment_at > {{ incoming }}.last_comment_at then {{ current }}.{{ column }}
        else coalesce({{ incoming }}.{{ column }}, {{ current }}.{{ column }})
    end
{%- endmacro %}
