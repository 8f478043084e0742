"""The schedule table: every DAG's id, owner, tags, retries and cron per environment.

Why one table: schedules, owners and retry policies are reviewed together, the DAG files stay thin
(they read their arguments from here), and tests can check that every entry has a DAG and every DAG
an entry. Locally no DAG is scheduled by time (`None`): `data-gcp run` triggers the daily chain.

DAGs triggered by data (Airflow assets) list the assets they wait for in `after`; the same assets are
declared as outlets by the DAGs that produce them (`produces`), so the order of the chain is data, not
clock times. Crons are Europe/Paris wall times (the reference schedules), see `TIMEZONE`.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache

from data_gcp.config import DataGcpError, Env

TIMEZONE = "Europe/Paris"
CLOUD_ENVS = (Env.dev, Env.stg, Env.prod)

OWNER_ENGINEERING = "data-engineering"
OWNER_SCIENCE = "data-science"

# Asset URIs shared by producers (outlets) and consumers (schedules). Airflow asset names are the URIs.
RAW_APPLICATIVE = "warehouse://raw/applicative_database"
DBT_MODELS = "warehouse://dbt/models"
ITEM_LINKS = "warehouse://ml/offer_item_link"


def raw_asset(system: str) -> str:
    """The asset a connector's raw tables form (`raw.<system>_*`)."""
    return f"warehouse://raw/{system}"


class UnknownDagError(DataGcpError):
    """A DAG id is not in the schedule table."""


@dataclass(frozen=True)
class DagSpec:
    """One row of the table. `cron[env]` is the cron of a time-scheduled DAG in that cloud env (None: not
    scheduled there); `after` makes the DAG data-triggered instead (then `cron` must be empty)."""

    dag_id: str
    description: str
    owner: str
    tags: tuple[str, ...]
    cron: dict[Env, str | None] = field(default_factory=dict)
    after: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    retries: int = 2
    retry_delay_minutes: int = 5
    job: str = "etl-job"
    local_chain: bool = False

    def __post_init__(self) -> None:
        if self.after and any(self.cron.values()):
            raise DataGcpError(f"DAG {self.dag_id}: a DAG is scheduled by cron or by assets, not both")

    def cron_for(self, env: Env) -> str | None:
        """The cron in `env`; always None locally (no scheduler runs there)."""
        if not env.is_cloud:
            return None
        return self.cron.get(env)

    def retries_for(self, env: Env) -> int:
        """No retries locally: a failing task should fail `data-gcp run` at once, not after a delay."""
        return self.retries if env.is_cloud else 0


def every_cloud_env(cron: str) -> dict[Env, str | None]:
    return dict.fromkeys(CLOUD_ENVS, cron)


def _static_specs() -> list[DagSpec]:
    specs = [
        DagSpec(
            dag_id="import_applicative_database",
            description="Import the app database (users, offers, bookings, ...) and app events into raw.",
            owner=OWNER_ENGINEERING,
            tags=("import", "applicative", "daily"),
            cron=every_cloud_env("0 1 * * *"),
            produces=(RAW_APPLICATIVE,),
            retries=2,
            job="import-job",
            local_chain=True,
        ),
        DagSpec(
            dag_id="dbt_run",
            description="Build every dbt model with its tests once the day's imports have landed.",
            owner=OWNER_ENGINEERING,
            tags=("dbt", "daily"),
            after=(RAW_APPLICATIVE,),
            produces=(DBT_MODELS,),
            retries=1,
            job="dbt-job",
            local_chain=True,
        ),
    ]
    if importlib.util.find_spec("data_gcp.two_tower") and importlib.util.find_spec("data_gcp.ranking"):
        specs.append(
            DagSpec(
                dag_id="ml_training",
                description="Weekly training of the recommendation models (two-tower retrieval, ranker).",
                owner=OWNER_SCIENCE,
                tags=("ml", "recommendation", "weekly"),
                cron={Env.dev: None, Env.stg: "0 4 * * 1", Env.prod: "0 4 * * 1"},
                retries=1,
                job="ml-job",
            )
        )
    if all(
        importlib.util.find_spec(f"data_gcp.{brick}")
        for brick in ("item_embedding", "item_clusters", "record_linkage")
    ):
        specs.append(
            DagSpec(
                dag_id="ml_item_jobs",
                description="Item embeddings (changed items only), topic clusters and record linkage.",
                owner=OWNER_SCIENCE,
                tags=("ml", "items", "daily"),
                after=(RAW_APPLICATIVE,),
                produces=(ITEM_LINKS,),
                retries=1,
                job="ml-job",
            )
        )
    return specs


def _connector_specs() -> list[DagSpec]:
    """One DAG per connector of the registry (a connector's schedule comes with its code)."""
    try:
        from data_gcp.etl_core import list_connectors
    except ModuleNotFoundError:  # the connectors are not part of this build
        return []
    specs = []
    for connector in list_connectors():
        specs.append(
            DagSpec(
                dag_id=etl_dag_id(connector.name),
                description=f"{connector.name}: {connector.description}".strip(": "),
                owner=OWNER_ENGINEERING,
                tags=("etl", "connector", connector.name),
                cron=every_cloud_env(connector.schedule),
                produces=(raw_asset(connector.name),),
                retries=3,
                retry_delay_minutes=10,
                job="etl-job",
                local_chain=True,
            )
        )
    return specs


def etl_dag_id(system: str) -> str:
    return f"etl_{system}"


@lru_cache(maxsize=1)
def schedule_table() -> dict[str, DagSpec]:
    """dag id -> spec, for every DAG of the platform."""
    specs = _static_specs() + _connector_specs()
    table = {s.dag_id: s for s in specs}
    if len(table) != len(specs):
        raise DataGcpError("duplicate dag_id in the schedule table")
    return table


def get_spec(dag_id: str) -> DagSpec:
    try:
        return schedule_table()[dag_id]
    except KeyError:
        raise UnknownDagError(
            f"DAG {dag_id!r} is not in the schedule table "
            f"(components/data_gcp/orchestration/schedules.py); add a row for it"
        ) from None


def chain_order(dag_ids: list[str] | None = None) -> list[str]:
    """The DAGs of the local daily chain, producers before the DAGs their assets trigger.

    Why from the assets: the order is the data dependency Airflow itself schedules in the cloud, so the
    local run cannot drift from it. Ties keep table order.
    """
    table = schedule_table()
    ids = dag_ids if dag_ids is not None else [d for d, s in table.items() if s.local_chain]
    producers: dict[str, set[str]] = {}
    for dag_id in ids:
        for asset in table[dag_id].produces:
            producers.setdefault(asset, set()).add(dag_id)
    remaining = list(ids)
    ordered: list[str] = []
    while remaining:
        ready = [
            d
            for d in remaining
            if all(p in ordered for a in table[d].after for p in producers.get(a, set()) if p != d)
        ]
        if not ready:
            raise DataGcpError(f"cycle between the DAGs {', '.join(remaining)} (through their assets)")
        ordered.extend(ready)
        remaining = [d for d in remaining if d not in ready]
    return ordered
