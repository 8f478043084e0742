"""Qualtrics connector: surveys, survey answers (one row per respondent x question), opted-out contacts.

Contract (reference `source-systems.md`): `https://{datacenter}.qualtrics.com/API/v3`, header
`X-API-TOKEN`; lists page with the `nextPage` URL in `result`; answers: `POST
/surveys/{id}/export-responses` (format csv), poll `GET .../export-responses/{progressId}` until
`complete` (sleeping `POLL_SECONDS` between polls, failing after `EXPORT_TIMEOUT_SECONDS`), download
`.../{fileId}/file` (a zip with one CSV); opt-outs: `GET /directories/{dir}/contacts/optedOutContacts` (Qualtrics' documented path).

Assumptions where the reference is silent (Qualtrics' public API v3 conventions, the previous job):
- a survey element has `id`, `name`, `ownerId`, `isActive`, `creationDate`, `lastModified`; answers
  are exported for the active surveys (or the `SURVEY_IDS` option);
- the export is asked for responses recorded in [window start, window end + 1 day) UTC
  (`startDate`/`endDate`, `timeZone` UTC); the window is widened to the 7 days ending at its end
  when shorter (a weekly job); its CSV has three header rows: column names (`ResponseId`, `Q1`,
  `Q2_1`, ...), question texts, JSON import ids (`{"ImportId":"QID2_1"}`); the question columns are
  those whose import id starts with `QID`; unanswered questions give no row;
- an opted-out contact has `contactId`, `email`, `extRef` (our user id), `language`,
  `directoryUnsubscribeDate`;
- an empty page that still has a `nextPage` is a vendor hiccup: it is read again (bounded), never
  skipped.
Personal data is minimised: the export's recipient names, e-mails, IP addresses and locations are
never loaded; an opted-out contact's e-mail is kept only as a SHA-256 of its trimmed lower-case form.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from data_gcp.etl_core import (
    Batch,
    Column,
    Connector,
    DateWindow,
    RunContext,
    TableSpec,
    email_hash,
    utc_timestamp,
)
from data_gcp.http_client import HttpClient, PageGuard, RetryableResponse, SourceError, endpoint_of, json_of
from data_gcp.log import get_logger

log = get_logger(__name__)

TOKEN = "qualtrics-api-token"
ANSWER_DAYS = 7

SURVEY = TableSpec(
    name="qualtrics_survey",
    object="survey",
    description="the account's surveys, one snapshot a day",
    columns=(
        Column("snapshot_date", "date", "day of the snapshot (the run's window end)", nullable=False),
        Column("survey_id", "string", nullable=False),
        Column("survey_name"),
        Column("owner_id"),
        Column("is_active", "bool"),
        Column("created_at", "timestamp"),
        Column("last_modified_at", "timestamp"),
    ),
    write="snapshot_day",
    partition="snapshot_date",
    primary_key=("snapshot_date", "survey_id"),
    allow_empty=False,
)
ANSWERS = TableSpec(
    name="qualtrics_answers",
    object="answers",
    description="survey answers, one row per response x answered question, by day the response was recorded",
    columns=(
        Column("recorded_date", "date", "UTC day the response was recorded", nullable=False),
        Column("survey_id", "string", nullable=False),
        Column("response_id", "string", nullable=False),
        Column("question", "string", "export column (Q1, Q2_1, Q3_TEXT...)", nullable=False),
        Column("question_id", "string", "Qualtrics import id (QID1, QID2_1...)"),
        Column("question_text"),
        Column("answer", "string", "the raw answer (choice code or text)"),
        Column("user_id", "string", "ExternalReference: the app's user id"),
        Column("distribution_channel"),
        Column("is_finished", "bool"),
        Column("started_at", "timestamp"),
        Column("ended_at", "timestamp"),
        Column("recorded_at", "timestamp", nullable=False),
    ),
    write="window",
    partition="recorded_date",
    scope=("survey_id",),
    primary_key=("recorded_date", "survey_id", "response_id", "question"),
)
OPT_OUT_USERS = TableSpec(
    name="qualtrics_opt_out_users",
    object="opt_out_users",
    description="contacts who opted out of the directory, one snapshot a day per directory",
    columns=(
        Column("snapshot_date", "date", nullable=False),
        Column("directory_id", "string", nullable=False),
        Column("contact_id", "string", nullable=False),
        Column("user_id", "string", "extRef: the app's user id"),
        Column("email_hash", "string", "sha256 of the trimmed lower-case e-mail"),
        Column("language"),
        Column("opted_out_at", "timestamp"),
    ),
    write="snapshot_day",
    partition="snapshot_date",
    scope=("directory_id",),
    primary_key=("snapshot_date", "directory_id", "contact_id"),
    allow_empty=False,
)

# metadata columns of the export kept on each answer row
_META = {
    "ResponseId": "response_id",
    "ExternalReference": "user_id",
    "DistributionChannel": "distribution_channel",
    "Finished": "is_finished",
    "StartDate": "started_at",
    "EndDate": "ended_at",
    "RecordedDate": "recorded_at",
}


class ExportFormatError(ValueError):
    """The export file is not the zipped three-header CSV expected."""


# --- parsing (pure) ---------------------------------------------------------------------------
def survey_row(element: dict[str, Any], snapshot_date: dt.date) -> dict[str, Any]:
    return {
        "snapshot_date": snapshot_date,
        "survey_id": element["id"],
        "survey_name": element.get("name"),
        "owner_id": element.get("ownerId"),
        "is_active": element.get("isActive"),
        "created_at": utc_timestamp(element.get("creationDate")),
        "last_modified_at": utc_timestamp(element.get("lastModified")),
    }


def opt_out_row(element: dict[str, Any], directory_id: str, snapshot_date: dt.date) -> dict[str, Any]:
    return {
        "snapshot_date": snapshot_date,
        "directory_id": directory_id,
        "contact_id": element["contactId"],
        "user_id": element.get("extRef") or None,
        "email_hash": email_hash(element.get("email")),
        "language": element.get("language"),
        "opted_out_at": utc_timestamp(element.get("directoryUnsubscribeDate")),
    }


def export_csv(content: bytes) -> bytes:
    """The one CSV inside an export zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        if len(names) != 1:
            raise ExportFormatError(f"the export zip should hold one CSV, it holds {archive.namelist()}")
        return archive.read(names[0])
    except (zipfile.BadZipFile, EOFError) as err:
        raise ExportFormatError(f"the export file is not a readable zip ({err})") from None


def answers_from_csv(data: bytes, survey_id: str) -> pa.Table:
    """Wide export CSV (one row per response) -> `qualtrics_answers` (one row per response x question).

    Why Arrow: an export holds up to hundreds of thousands of responses x dozens of questions; the
    melt is one filter + concat per question column, never a Python loop over cells.
    """
    text = data.decode("utf-8-sig")
    header = list(_first_rows(text, 3))
    if len(header) < 3:
        raise ExportFormatError(f"export of survey {survey_id}: {len(header)} header row(s), expected 3")
    names, texts, import_cells = header
    missing = [m for m in ("ResponseId", "RecordedDate") if m not in names]
    if missing:
        raise ExportFormatError(f"export of survey {survey_id} lacks the columns {missing}")
    import_ids = [_import_id(cell) for cell in import_cells]
    unique = _dedupe(names)
    wide = pacsv.read_csv(
        io.BytesIO(text.encode()),
        read_options=pacsv.ReadOptions(column_names=unique, skip_rows_after_names=3),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in unique}, strings_can_be_null=False
        ),
    )
    n = wide.num_rows
    meta = {
        target: wide.column(src) if src in wide.column_names else pa.nulls(n, pa.string())
        for src, target in _META.items()
    }
    meta_table = pa.table(meta)
    parts = []
    for i, import_id in enumerate(import_ids):
        if not (import_id and import_id.startswith("QID")):
            continue
        answers = wide.column(unique[i])
        part = meta_table.append_column("answer", answers).filter(pc.not_equal(answers, ""))
        m = part.num_rows
        if m:
            part = part.append_column("question", pa.repeat(pa.scalar(names[i], pa.string()), m))
            part = part.append_column("question_id", pa.repeat(pa.scalar(import_id, pa.string()), m))
            part = part.append_column("question_text", pa.repeat(pa.scalar(texts[i], pa.string()), m))
            parts.append(part)
    if not parts:
        return ANSWERS.arrow_schema.empty_table()
    long = pa.concat_tables(parts)
    recorded = _parseutc_timestamp(long.column("recorded_at"))
    if long.num_rows and recorded.null_count:
        raise ExportFormatError(
            f"export of survey {survey_id}: {recorded.null_count} row(s) without RecordedDate"
        )
    columns = {
        "recorded_date": pc.cast(recorded, pa.date32()),
        "survey_id": pa.repeat(pa.scalar(survey_id, pa.string()), long.num_rows),
        "response_id": long.column("response_id"),
        "question": long.column("question"),
        "question_id": long.column("question_id"),
        "question_text": long.column("question_text"),
        "answer": long.column("answer"),
        "user_id": _null_if_empty(long.column("user_id")),
        "distribution_channel": _null_if_empty(long.column("distribution_channel")),
        "is_finished": pc.equal(long.column("is_finished"), "1"),
        "started_at": _parseutc_timestamp(long.column("started_at")),
        "ended_at": _parseutc_timestamp(long.column("ended_at")),
        "recorded_at": recorded,
    }
    return pa.table(columns, schema=ANSWERS.arrow_schema)


def _null_if_empty(col: pa.ChunkedArray) -> pa.ChunkedArray:
    col = pc.cast(col, pa.string())
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)


def _parseutc_timestamp(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """`YYYY-MM-DD HH:MM:SS` (the export is asked in UTC) -> timestamp UTC."""
    parsed = pc.strptime(_null_if_empty(col), format="%Y-%m-%d %H:%M:%S", unit="us")
    return pc.assume_timezone(parsed, "UTC")


def _first_rows(text: str, count: int) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text))
    for _, row in zip(range(count), reader, strict=False):
        yield row


def _import_id(cell: str) -> str | None:
    try:
        value = json.loads(cell)
    except ValueError:
        return None
    return value.get("ImportId") if isinstance(value, dict) else None


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}__{seen[name]}")
    return out


def answers_window(window: DateWindow) -> DateWindow:
    """The run's window, widened to the `ANSWER_DAYS` days ending at its end when shorter."""
    return window.at_least(ANSWER_DAYS)


# --- the connector ----------------------------------------------------------------------------
class QualtricsConnector(Connector):
    name = "qualtrics"
    description = (
        "Qualtrics surveys, their answers (respondent x question) and the directory's opted-out contacts"
    )
    schedule = "0 4 * * 1"
    default_base_url = "https://{datacenter}.qualtrics.com/API/v3"
    secrets = (TOKEN,)
    tables = (SURVEY, ANSWERS, OPT_OUT_USERS)
    settings_help = {
        "DATACENTER": "the account's data center id (e.g. fra1), part of the base URL",
        "DIRECTORY_ID": "the contacts directory (POOL_...) whose opt-outs are read",
        "SURVEY_IDS": "comma-separated surveys to export (default: every active survey)",
        "POLL_SECONDS": "pause between two polls of an export (default 2)",
        "EXPORT_TIMEOUT_SECONDS": "an export not complete after this fails the run (default 600)",
    }

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        base_url = ctx.base_url
        if "{datacenter}" in base_url:
            base_url = base_url.format(datacenter=ctx.option("datacenter"))
        with ctx.http(base_url=base_url, secret_headers={"X-API-TOKEN": ctx.secret(TOKEN)}) as http:
            if ctx.wants("survey") or ctx.wants("answers"):
                surveys = list(self.pages(http, "surveys"))
                log.info("qualtrics: %d survey(s)", len(surveys))
                if ctx.wants("survey"):
                    yield SURVEY.name, SURVEY.to_arrow([survey_row(s, ctx.window.end) for s in surveys])
                if ctx.wants("answers"):
                    for survey_id in self.survey_ids(ctx, surveys):
                        yield ANSWERS.name, self.answers(http, ctx, survey_id)
                        ctx.covers(ANSWERS.name, answers_window(ctx.window).days(), survey_id=survey_id)
            if ctx.wants("opt_out_users"):
                directory = ctx.option("directory_id")
                contacts = self.pages(http, f"directories/{directory}/contacts/optedOutContacts")
                rows = [opt_out_row(c, directory, ctx.window.end) for c in contacts]
                log.info("qualtrics: %d opted-out contact(s) in %s", len(rows), directory)
                yield OPT_OUT_USERS.name, OPT_OUT_USERS.to_arrow(rows)

    def survey_ids(self, ctx: RunContext, surveys: list[dict[str, Any]]) -> list[str]:
        chosen = ctx.option("survey_ids", "")
        if chosen:
            wanted = [s.strip() for s in chosen.split(",") if s.strip()]
            known = {s["id"] for s in surveys}
            unknown = [s for s in wanted if s not in known]
            if unknown:
                raise SourceError(
                    "qualtrics", "GET /surveys", f"option SURVEY_IDS names unknown surveys {unknown}"
                )
            return wanted
        return [s["id"] for s in surveys if s.get("isActive")]

    def pages(self, http: HttpClient, path: str) -> Iterator[dict[str, Any]]:
        """Every element of a `result.elements` / `result.nextPage` listing."""
        url: str | None = path
        guard = PageGuard("qualtrics", http.endpoint("GET", path))
        while url:
            body = json_of(http.request("GET", url, check=_page_check(first=url == path)))
            result = body["result"]
            guard.page(result["elements"], f"page {guard.pages + 1}")
            yield from result["elements"]
            url = result.get("nextPage") or None
            guard.cursor(url)  # a nextPage seen before: the listing cycles

    def answers(self, http: HttpClient, ctx: RunContext, survey_id: str) -> pa.Table:
        window = answers_window(ctx.window)
        base = f"surveys/{survey_id}/export-responses"
        response = http.request(
            "POST",
            base,
            json_body={
                "format": "csv",
                "startDate": window.start_datetime.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endDate": window.end_exclusive_datetime.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "timeZone": "UTC",
            },
            check=_result_check,
        )
        progress_id = json_of(response)["result"].get("progressId")
        if not progress_id:
            raise SourceError(
                "qualtrics", endpoint_of("POST", response.url), "the export started without a progressId"
            )
        file_id = self.wait_for_export(http, ctx, base, progress_id)
        download = http.request("GET", f"{base}/{file_id}/file", check=_zip_check)
        try:
            table = answers_from_csv(export_csv(download.content), survey_id)
        except ExportFormatError as err:
            raise SourceError("qualtrics", endpoint_of("GET", download.url), str(err)) from None
        days = pc.unique(table.column("recorded_date")).to_pylist()
        outside = sorted(d for d in days if not window.start <= d <= window.end)
        if outside:
            raise SourceError(
                "qualtrics",
                endpoint_of("GET", download.url),
                f"answers recorded outside {window}: {outside[:3]}",
            )
        log.info("qualtrics: survey %s, %d answer(s) recorded in %s", survey_id, table.num_rows, window)
        return table

    def wait_for_export(self, http: HttpClient, ctx: RunContext, base: str, progress_id: str) -> str:
        """Poll until `complete`, sleeping between polls; fail on `failed` or after the timeout."""
        interval = float(ctx.option("poll_seconds", "2"))
        timeout = float(ctx.option("export_timeout_seconds", "600"))
        deadline = ctx.clock.monotonic() + timeout
        polls = 0
        while True:
            response = http.request("GET", f"{base}/{progress_id}", check=_result_check)
            endpoint = endpoint_of("GET", response.url)
            result = json_of(response)["result"]
            polls += 1
            status = result.get("status")
            if status == "complete":
                if not result.get("fileId"):
                    raise SourceError("qualtrics", endpoint, "the export is complete but has no fileId")
                return result["fileId"]
            if status == "failed":
                raise SourceError("qualtrics", endpoint, "the export failed at Qualtrics")
            if ctx.clock.monotonic() + interval > deadline:
                raise SourceError(
                    "qualtrics",
                    endpoint,
                    f"the export was not complete after {polls} poll(s) in {timeout:.0f}s "
                    f"(status {status!r}, {result.get('percentComplete')}%); raise EXPORT_TIMEOUT_SECONDS or retry later",
                )
            ctx.clock.sleep(interval)


def _json(response: httpx.Response) -> Any:
    try:
        return json_of(response)
    except ValueError:
        raise RetryableResponse("invalid JSON in the answer (truncated?)") from None


def _result_check(response: httpx.Response) -> None:
    body = _json(response)
    if not isinstance(body, dict) or not isinstance(body.get("result"), dict):
        raise RetryableResponse("no `result` object in the answer")


def _page_check(first: bool) -> Callable[[httpx.Response], None]:
    """A page must hold elements, unless it is the first and last one (an empty listing).

    An empty page that announces a next one, or an empty page after the first, is a vendor hiccup:
    read it again (bounded) rather than skip its elements.
    """

    def check(response: httpx.Response) -> None:
        _result_check(response)
        result = json_of(response)["result"]
        if not isinstance(result.get("elements"), list):
            raise RetryableResponse("no `result.elements` list in the answer")
        if not result["elements"] and (result.get("nextPage") or not first):
            raise RetryableResponse("an empty page in the middle of the listing")

    return check


def _zip_check(response: httpx.Response) -> None:
    try:
        zipfile.ZipFile(io.BytesIO(response.content)).testzip()
    except (zipfile.BadZipFile, EOFError) as err:
        raise RetryableResponse(f"the export file is not a readable zip ({err})") from None


CONNECTOR = QualtricsConnector
