"""The schedule table: every DAG's id, owner, tags, retries and cron per environment.

Why one table: schedules, owners and retry policies are reviewed together, the DAG files stay thin
(they read their arguments from here), and tests can check that every entry has a DAG and every DAG
an entry. Locally no DAG is scheduled by time (`None`): `data-gcp run` triggers the daily chain.

DAGs triggered by data (Airflow assets) list the assets they wait for in `after`; the same assets are
declared as outlets by the DAGs that produce them (`produces`), so the order of the chain is data, not
clock times. Crons are Europe/Paris wall times (the reference schedules), see `TIMEZONE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

from data_gcp.config import TIMEZONE as TIMEZONE  # Paris wall times, re-exported
from data_gcp.config import DataGcpError, Env

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
    # assets each of which alone also triggers the DAG: producers that land less often than daily
    # (a weekly connector); the DAG runs again after them, and never waits days for them
    after_any: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    # the assets whose events name the days a data-triggered run processes (default: `after`); see
    # `data_gcp.orchestration.trigger`
    day_from: tuple[str, ...] = ()
    retries: int = 2
    retry_delay_minutes: int = 5
    # Airflow fails a task running longer than this (`execution_timeout`), and a whole run longer
    # than `dagrun_timeout_minutes`; shorter than the gap between two runs of the DAG
    task_timeout_minutes: int = 60
    dagrun_timeout_minutes: int = 180
    job: str = "etl-job"
    local_chain: bool = False
    # Cloud Run tasks of one execution, per DAG task id (1 when absent): a job that shards its work
    # over `CLOUD_RUN_TASK_INDEX` / `CLOUD_RUN_TASK_COUNT` (`ml embed`) runs that many tasks in parallel
    tasks: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.after or self.after_any) and any(self.cron.values()):
            raise DataGcpError(f"DAG {self.dag_id}: a DAG is scheduled by cron or by assets, not both")
        bad = {t: n for t, n in self.tasks.items() if isinstance(n, bool) or not isinstance(n, int) or n < 1}
        if bad:
            raise DataGcpError(
                f"DAG {self.dag_id}: Cloud Run task counts must be integers >= 1, got {bad}; "
                "fix `tasks` in the schedule table (components/data_gcp/orchestration/schedules.py)"
            )

    def task_count(self, task_id: str) -> int:
        """How many Cloud Run tasks an execution of DAG task `task_id` runs (1 unless `tasks` says)."""
        return self.tasks.get(task_id, 1)

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
            task_timeout_minutes=120,
            dagrun_timeout_minutes=240,
            job="import-job",
            local_chain=True,
        ),
        DagSpec(
            dag_id="dbt_run",
            description="Build every dbt model with its tests once the day's imports have landed.",
            owner=OWNER_ENGINEERING,
            tags=("dbt", "daily"),
            after=(RAW_APPLICATIVE,),  # and every connector's asset: see `schedule_table`
            # its day is the import's: hourly, weekly and production-only connectors trigger rebuilds
            # of the models too, and a rebuild processes no new day (nothing exported again)
            day_from=(RAW_APPLICATIVE,),
            produces=(DBT_MODELS,),
            retries=1,
            task_timeout_minutes=60,
            dagrun_timeout_minutes=300,
            job="",  # dbt runs on the Airflow workers (Cosmos), not as a Cloud Run job
            local_chain=True,
        ),
        DagSpec(
            dag_id="dbt_exports",
            description="Write the partners' export files (dbt export models) once the models are built.",
            owner=OWNER_ENGINEERING,
            tags=("dbt", "export", "daily"),
            after=(DBT_MODELS,),
            retries=1,
            job="dbt-job",
            local_chain=True,
        ),
        # The reverse exports: what the app and the pro portal read back, from the models of the day
        DagSpec(
            dag_id="export_reco_cloudsql",
            description="Write the recommendation tables the app reads to its PostgreSQL (Cloud SQL).",
            owner=OWNER_SCIENCE,
            tags=("export", "recommendation", "daily"),
            after=(DBT_MODELS,),
            retries=2,
            task_timeout_minutes=60,
            dagrun_timeout_minutes=120,
            job="etl-job",
            local_chain=True,
        ),
        DagSpec(
            dag_id="export_clickhouse",
            description="Write the pro portal's statistics to ClickHouse once the models are built.",
            owner=OWNER_ENGINEERING,
            tags=("export", "clickhouse", "pro", "daily"),
            after=(DBT_MODELS,),
            retries=2,
            task_timeout_minutes=60,
            dagrun_timeout_minutes=120,
            job="etl-job",
            local_chain=True,
        ),
        # Its tasks run the ml-job image (Cloud Run): Composer needs no ML package for it.
        DagSpec(
            dag_id="ml_training",
            description="Weekly training of the recommendation models (two-tower retrieval, ranker).",
            owner=OWNER_SCIENCE,
            tags=("ml", "recommendation", "weekly"),
            cron={Env.dev: None, Env.stg: "0 4 * * 1", Env.prod: "0 4 * * 1"},
            retries=1,
            task_timeout_minutes=240,
            dagrun_timeout_minutes=480,
            job="ml-job",
        ),
    ]
    # Its tasks run the ml-job image (Cloud Run); a day's import triggers it.
    specs.append(
        DagSpec(
            dag_id="ml_item_jobs",
            description="Item embeddings (changed items only), topic clusters and record linkage.",
            owner=OWNER_SCIENCE,
            tags=("ml", "items", "daily"),
            after=(RAW_APPLICATIVE,),
            produces=(ITEM_LINKS,),
            retries=1,
            task_timeout_minutes=120,
            dagrun_timeout_minutes=240,
            job="ml-job",
            # `ml embed` shards the changed items over the execution's tasks (one instance each)
            tasks={"embed_items": 4},
        )
    )
    return specs


def _connector_specs() -> list[DagSpec]:
    """One DAG per connector of the registry (a connector's schedule comes with its code)."""
    # A missing module is an import error here, never a missing DAG.
    from data_gcp.etl_core import list_connectors

    specs = []
    for connector in list_connectors():
        specs.append(
            DagSpec(
                dag_id=etl_dag_id(connector.name),
                description=f"{connector.name}: {connector.description}".strip(": "),
                owner=OWNER_ENGINEERING,
                tags=("etl", "connector", connector.name),
                cron={
                    env: connector.schedule if env.value in connector.cloud_envs else None
                    for env in CLOUD_ENVS
                },
                produces=(raw_asset(connector.name),),
                retries=3,
                retry_delay_minutes=10,
                task_timeout_minutes=90,
                dagrun_timeout_minutes=150,
                job="etl-job",
                local_chain=True,
            )
        )
    return specs


def etl_dag_id(system: str) -> str:
    return f"etl_{system}"


def fires_daily(cron: str) -> bool:
    """Whether a 5-field cron fires at least once every day (day of month, month, weekday all `*`)."""
    fields = cron.split()
    return len(fields) == 5 and fields[2:] == ["*", "*", "*"]


def _dbt_waits_for_every_raw_producer(specs: list[DagSpec]) -> list[DagSpec]:
    """dbt reads every raw dataset: it waits for the asset of every DAG that writes `raw`.

    Producers that land at least daily in every cloud env must all have landed since dbt's last run
    (AND); one landing less often (a weekly connector) or only in some envs triggers a run of its own
    after it (OR), so dbt never builds a model before that night's load of its source, and never waits
    a week for a weekly one.
    """
    raw_producers = [
        s
        for s in specs
        if s.dag_id != "dbt_run" and any(a.startswith("warehouse://raw/") for a in s.produces)
    ]
    every_day, less_often = [], []
    for spec in raw_producers:
        crons = [spec.cron.get(env) for env in CLOUD_ENVS]
        # AND only for a producer landing every day in every cloud env: one scheduled in some envs only
        # (Metabase: production) or less often would hold dbt back where it never runs
        daily = all(c and fires_daily(c) for c in crons)
        (every_day if daily else less_often).extend(
            a for a in spec.produces if a.startswith("warehouse://raw/")
        )
    out = []
    for spec in specs:
        if spec.dag_id == "dbt_run":
            spec = replace(
                spec, after=tuple(dict.fromkeys(every_day)), after_any=tuple(dict.fromkeys(less_often))
            )
        out.append(spec)
    return out


@lru_cache(maxsize=1)
def schedule_table() -> dict[str, DagSpec]:
    """dag id -> spec, for every DAG of the platform."""
    specs = _dbt_waits_for_every_raw_producer(_static_specs() + _connector_specs())
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
    local run cannot drift from it (`after_any` producers, e.g. a weekly connector, come first too).
    Ties keep table order.
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
            if all(
                p in ordered
                for a in (*table[d].after, *table[d].after_any)
                for p in producers.get(a, set())
                if p != d
            )
        ]
        if not ready:
            raise DataGcpError(f"cycle between the DAGs {', '.join(remaining)} (through their assets)")
        ordered.extend(ready)
        remaining = [d for d in remaining if d not in ready]
    return ordered
