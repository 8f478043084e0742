"""Metabase governance: archive stale cards, remove empty dashboards/collections, card -> table lineage."""

from data_gcp.metabase.connector import (
    ARCHIVING_LOG,
    CARD_DEPENDENCY,
    CONNECTOR,
    MetabaseApi,
    MetabaseConnector,
    card_dependencies,
)
from data_gcp.metabase.lineage import Dependency, native_dependencies
from data_gcp.metabase.planner import Action, plan_actions
from data_gcp.metabase.rules import Rules, load_rules

__all__ = [
    "ARCHIVING_LOG",
    "CARD_DEPENDENCY",
    "CONNECTOR",
    "Action",
    "Dependency",
    "MetabaseApi",
    "MetabaseConnector",
    "Rules",
    "card_dependencies",
    "load_rules",
    "native_dependencies",
    "plan_actions",
]
