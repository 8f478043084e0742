"""Brevo connector.

Contract (reference `source-systems.md`): `https://api.brevo.com/v3`, header `api-key`, one key per
audience (`native` young users, `pro` professionals); offset+limit pagination.

- `newsletters`: `GET /emailCampaigns?status=sent&statistics=globalStats` (limit 50), a snapshot of
  sent campaigns dated `snapshot_date` = the window's end; that day x audience is replaced.
  The listing is checked for completeness: distinct campaign ids against the announced `count`.
- `transactional`: `GET /smtp/statistics/events?startDate&endDate&event=<type>` (limit 2500, one
  pass per event type), aggregated per template, tag, e-mail hash and day; the window's days x
  audience are replaced, and a day read in full that now has no event is cleared. The window is read
  one day at a time (Brevo refuses ranges over 90 days; memory stays one day's events whatever the
  backfill), each day checked against `GET /smtp/statistics/aggregatedReport` for that day: a listing
  that ends early (an empty page in the middle) is read again once, then fails.

Assumptions where the reference is silent (Brevo's public API conventions): the UTM is the campaign's
`utmCampaignValue` (else its `tag`); audience size = `globalStats.delivered`, opens =
`globalStats.uniqueViews`; an event's `date` carries a UTC offset (`2026-11-20T23:30:00.000+01:00`).
Whose days `startDate`/`endDate` select is not documented: UTC days, or the account's (Paris) days
(the original platform's job took each event's local date). Both readings are accepted: an event of
the listing of day D is D's when its UTC date or its local date (as written, in its own offset) is D,
and it is stored under D, the day asked for; so a run never fails on a `+01:00` event whichever
reading is Brevo's. An event that is D's under neither reading is skipped with a warning naming it
(in more than a tenth of a day's events, the listing is wrong: the run fails); rate-limit headers `x-sib-ratelimit-*` are honoured by the shared client; the aggregated
report's `delivered`, `opens` and `unsubscribed` count the same events as the listing. If production
shows that assumption wrong, `DATA_GCP_BREVO_REPORT_CHECK=warn` (log the mismatch) or `off` relaxes
the check without a code change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from data_gcp.etl_core import (
    BadRecords,
    Batch,
    Column,
    Connector,
    RunContext,
    TableSpec,
    email_hash_column,
    utc_timestamp,
    utc_timestamp_column,
)
from data_gcp.http_client import HttpClient, SourceError
from data_gcp.log import get_logger

log = get_logger(__name__)

AUDIENCES = {"native": "brevo-api-key-native", "pro": "brevo-api-key-pro"}
EVENT_TYPES = {"delivered": "delivered", "opened": "opens", "unsubscribed": "unsubscribed"}
EVENTS_LIMIT = 2500
CAMPAIGNS_LIMIT = 50

NEWSLETTERS = TableSpec(
    name="brevo_newsletters",
    object="newsletters",
    description="sent e-mail campaigns and their global stats, one snapshot a day per audience",
    columns=(
        Column("snapshot_date", "date", "day of the snapshot (the run's window end)", nullable=False),
        Column("audience", "string", "native (young users) or pro", nullable=False),
        Column("campaign_id", "int", nullable=False),
        Column("campaign_name"),
        Column("campaign_utm"),
        Column("campaign_sent_date", "timestamp"),
        Column("share_link"),
        Column("audience_size", "int", "delivered e-mails"),
        Column("open_number", "int", "unique opens"),
        Column("unsubscriptions", "int"),
    ),
    write="snapshot_day",
    partition="snapshot_date",
    scope=("audience",),
    primary_key=("snapshot_date", "audience", "campaign_id"),
    allow_empty=False,
)
TRANSACTIONAL = TableSpec(
    name="brevo_transactional",
    object="transactional",
    description="transactional e-mail events per template, tag, recipient (sha256) and day",
    columns=(
        Column("event_date", "date", nullable=False),
        Column("audience", "string", nullable=False),
        Column("template_id", "int"),
        Column("tag"),
        Column("email_hash", "string", "sha256 of the lower-case e-mail"),
        Column("delivered_count", "int"),
        Column("opened_count", "int"),
        Column("unsubscribed_count", "int"),
    ),
    write="window",
    partition="event_date",
    scope=("audience",),
    primary_key=("event_date", "audience", "template_id", "tag", "email_hash"),
)


EVENT_STRUCT = pa.struct(
    [("email", pa.string()), ("date", pa.string()), ("templateId", pa.int64()), ("tag", pa.string())]
)


class BrevoConnector(Connector):
    name = "brevo"
    description = "Brevo (Sendinblue) newsletters and transactional e-mails, audiences native and pro"
    schedule = "0 3 * * *"
    default_base_url = "https://api.brevo.com/v3"
    secrets = tuple(AUDIENCES.values())
    tables = (NEWSLETTERS, TRANSACTIONAL)
    settings_help = {"REPORT_CHECK": "strict (default), warn or off: cross-check of event listings"}

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        for audience, secret in AUDIENCES.items():
            with ctx.http(
                secret_headers={"api-key": ctx.secret(secret)}, headers={"accept": "application/json"}
            ) as http:
                if ctx.wants("newsletters"):
                    yield NEWSLETTERS.name, self.newsletters(http, audience, ctx.window.end)
                if ctx.wants("transactional"):
                    for day in ctx.window.days():
                        yield TRANSACTIONAL.name, self.transactional(http, audience, ctx, day)
                        ctx.covers(TRANSACTIONAL.name, [day], audience=audience)

    # --- newsletters ------------------------------------------------------------------------
    def newsletters(self, http: HttpClient, audience: str, snapshot_date: dt.date) -> pa.Table:
        rows: list[dict[str, Any]] = []
        campaigns = http.snapshot_offset(
            "emailCampaigns",
            "campaigns",
            id_of=lambda c: c["id"],
            params={"type": "classic", "status": "sent", "statistics": "globalStats"},
            limit=CAMPAIGNS_LIMIT,
            total_key="count",
        )
        for c in campaigns:
            stats = (c.get("statistics") or {}).get("globalStats") or {}
            rows.append(
                {
                    "snapshot_date": snapshot_date,
                    "audience": audience,
                    "campaign_id": int(c["id"]),
                    "campaign_name": c.get("name"),
                    "campaign_utm": c.get("utmCampaignValue") or c.get("tag"),
                    "campaign_sent_date": utc_timestamp(c.get("sentDate")),
                    "share_link": c.get("shareLink"),
                    "audience_size": stats.get("delivered"),
                    "open_number": stats.get("uniqueViews"),
                    "unsubscriptions": stats.get("unsubscriptions"),
                }
            )
        return NEWSLETTERS.to_arrow(rows)

    # --- transactional ----------------------------------------------------------------------
    def _events(self, http: HttpClient, window_params: dict[str, str], event: str) -> pa.Table:
        """Every event of one type in the window, as Arrow (email, date, templateId, tag).

        Pages are converted to Arrow by pyarrow (C++), not by a Python loop per event: this listing
        is the large one (hundreds of thousands of events a day).
        """
        params = {**window_params, "event": event, "sort": "asc"}
        chunks = [
            pa.array(page, type=EVENT_STRUCT)
            for page in http.paginate_offset(
                "smtp/statistics/events", "events", params=params, limit=EVENTS_LIMIT
            )
        ]
        if not chunks:
            return pa.Table.from_batches([], schema=pa.schema(list(EVENT_STRUCT)))
        return pa.Table.from_struct_array(pa.chunked_array(chunks, type=EVENT_STRUCT))

    def transactional(self, http: HttpClient, audience: str, ctx: RunContext, day: dt.date) -> pa.Table:
        """One UTC day of one audience's events, aggregated (a day at a time: memory bounded by a day)."""
        window = {"startDate": day.isoformat(), "endDate": day.isoformat()}
        report = http.get_json("smtp/statistics/aggregatedReport", window)
        parts = []
        check = ctx.option("report_check", "strict").lower()
        for event, report_key in EVENT_TYPES.items():
            expected = report.get(report_key) if check in ("strict", "warn") else None
            raw = self._events(http, window, event)
            if expected is not None and raw.num_rows != int(expected):
                ctx.clock.sleep(1.0)  # the listing ended early: read it once more before failing
                again = self._events(http, window, event)
                raw = again if again.num_rows >= raw.num_rows else raw  # the fuller read
                if raw.num_rows != int(expected):
                    message = (
                        f"listed {raw.num_rows} {event!r} events for {audience} {day} but "
                        f"the aggregated report counts {expected}"
                    )
                    if check == "strict":
                        raise SourceError(
                            "brevo",
                            "GET /smtp/statistics/events",
                            f"{message}: the listing is incomplete, nothing written "
                            "(DATA_GCP_BREVO_REPORT_CHECK=warn accepts it)",
                        )
                    log.warning("brevo: %s (accepted: DATA_GCP_BREVO_REPORT_CHECK=warn)", message)
            n = raw.num_rows
            ones, zeros = pa.repeat(1, n).cast(pa.int64()), pa.repeat(0, n).cast(pa.int64())
            parts.append(
                pa.table(
                    {
                        "event_date": pc.cast(utc_timestamp_column(raw["date"]), pa.date32()),
                        "local_date": pc.cast(pc.utf8_slice_codeunits(raw["date"], 0, 10), pa.date32()),
                        "raw_date": raw["date"],
                        "template_id": raw["templateId"],
                        "tag": raw["tag"],
                        "email_hash": email_hash_column(raw["email"]),
                        "delivered_count": ones if event == "delivered" else zeros,
                        "opened_count": ones if event == "opened" else zeros,
                        "unsubscribed_count": ones if event == "unsubscribed" else zeros,
                    }
                )
            )
        events = pa.concat_tables(parts)
        events = self._of_day(events, audience, day)
        keys = ["event_date", "template_id", "tag", "email_hash"]
        grouped = events.group_by(keys, use_threads=False).aggregate(
            [("delivered_count", "sum"), ("opened_count", "sum"), ("unsubscribed_count", "sum")]
        )
        grouped = grouped.rename_columns([c.removesuffix("_sum") for c in grouped.column_names]).sort_by(
            [(k, "ascending") for k in keys]
        )
        grouped = grouped.append_column("audience", pa.array([audience] * grouped.num_rows, pa.string()))
        return grouped.select(TRANSACTIONAL.arrow_schema.names)

    @staticmethod
    def _of_day(events: pa.Table, audience: str, day: dt.date) -> pa.Table:
        """The events of the listing of `day`, dated `day`: UTC or local date is `day` (see module)."""
        target = pa.scalar(day, pa.date32())
        ok = pc.or_(pc.equal(events["event_date"], target), pc.equal(events["local_date"], target))
        ok = pc.fill_null(ok, False)
        outside = events.filter(pc.invert(ok))
        if outside.num_rows:
            bad = BadRecords(
                "brevo",
                f"events of the {audience} listing of {day}",
                error=lambda m: SourceError("brevo", "GET /smtp/statistics/events", m),
            )
            named = [f"dated {when}" for when in outside["raw_date"].slice(0, 5).to_pylist()]
            bad.skip_many(named, outside.num_rows, f"neither its UTC nor its local date is {day}")
            bad.check(events.num_rows)
        kept = events.filter(ok).drop_columns(["local_date", "raw_date"])
        return kept.set_column(0, "event_date", pa.repeat(target, kept.num_rows).cast(pa.date32()))


CONNECTOR = BrevoConnector
