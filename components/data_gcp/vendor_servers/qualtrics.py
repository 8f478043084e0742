"""Qualtrics API v3: surveys, responses exports (start, poll, zipped CSV), opted-out contacts.

Lists page with an absolute `result.nextPage` URL. An export goes `inProgress` for `export_polls`
polls, then `complete` with a `fileId` (`export_polls=-1`: never completes, to test the poll timeout;
default 0, complete at the first poll, so the local daily run never waits the real pause between polls).
The file is a zip holding one CSV in Qualtrics' layout: three header rows (column names, question
texts, JSON import ids), then one row per response recorded in the export's [startDate, endDate).
Respondents are sandbox users (`ExternalReference` = user id); every 40th user opted out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import threading
import uuid
import zipfile
from typing import Any

from data_gcp.etl_core import utc_timestamp
from data_gcp.vendor_servers.data import SandboxData, user_email
from data_gcp.vendor_servers.framework import Request, Response, VendorApp

LOCAL_TOKEN = "local-qualtrics-token-0006"
DIRECTORY_ID = "POOL_localdirectory01"
FIRST_DAY = dt.date(2025, 1, 6)
SURVEY_TOPICS = ["Satisfaction jeunes", "Satisfaction acteurs culturels", "Usage du crédit", "Découverte"]
META_COLUMNS = [
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"UTC"}'),
    ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"UTC"}'),
    ("Status", "Response Type", '{"ImportId":"status"}'),
    ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
    ("Progress", "Progress", '{"ImportId":"progress"}'),
    ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
    ("Finished", "Finished", '{"ImportId":"finished"}'),
    ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"UTC"}'),
    ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    ("RecipientLastName", "Recipient Last Name", '{"ImportId":"recipientLastName"}'),
    ("RecipientFirstName", "Recipient First Name", '{"ImportId":"recipientFirstName"}'),
    ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
    ("ExternalReference", "External Data Reference", '{"ImportId":"externalDataReference"}'),
    ("LocationLatitude", "Location Latitude", '{"ImportId":"locationLatitude"}'),
    ("LocationLongitude", "Location Longitude", '{"ImportId":"locationLongitude"}'),
    ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
    ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}'),
]
QUESTIONS = [
    ("Q1", "Quelle note donneriez-vous au pass Culture ?\n(0 = pas du tout, 10 = tout à fait)", "QID1"),
    ("Q2_1", "Qu'avez-vous réservé ? - Livres", "QID2_1"),
    ("Q2_2", "Qu'avez-vous réservé ? - Concerts, spectacles", "QID2_2"),
    ("Q2_3", "Qu'avez-vous réservé ? - Cinéma", "QID2_3"),
    ("Q3_TEXT", "Un commentaire, une suggestion ?", "QID3_TEXT"),
]
COMMENTS = [
    "Super appli, merci !",
    'Plus de concerts "près de chez moi", svp',
    "Le livre est arrivé\nen retard.",
    "",
]


def _ok(result: dict[str, Any]) -> Response:
    return Response(
        200, {"result": result, "meta": {"httpStatus": "200 - OK", "requestId": str(uuid.uuid4())}}
    )


def _error(status: int, text: str, code: str) -> Response:
    return Response(
        status,
        {"meta": {"httpStatus": f"{status} - {text}", "error": {"errorMessage": text, "errorCode": code}}},
    )


def build(
    data: SandboxData,
    n_surveys: int = 6,
    page_size: int = 4,
    responses_per_day: int = 12,
    export_polls: int = 0,
    **_: object,
) -> VendorApp:
    users = data.user_ids or [1]
    surveys = [
        {
            "id": f"SV_local{i:04d}",
            "name": f"{SURVEY_TOPICS[i % len(SURVEY_TOPICS)]} #{i + 1}",
            "ownerId": "UR_localowner",
            "lastModified": f"2025-01-{(i % 27) + 1:02d}T08:00:00Z",
            "creationDate": f"2024-12-{(i % 27) + 1:02d}T08:00:00Z",
            "isActive": i % 3 != 2,
        }
        for i in range(n_surveys)
    ]
    survey_ids = {s["id"]: i for i, s in enumerate(surveys)}
    opted_out = users[::40]
    exports: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()

    def auth(request: Request) -> Response | None:
        if request.header("X-API-TOKEN") != LOCAL_TOKEN:
            return _error(401, "Unauthorized", "AUTH_ERROR")
        return None

    def page(request: Request, items: list[dict[str, Any]], path: str) -> Response:
        offset = request.int_param("offset", 0)
        chunk = items[offset : offset + page_size]
        more = offset + page_size < len(items)
        host = request.header("host") or "127.0.0.1"
        next_page = f"http://{host}/API/v3{path}?offset={offset + page_size}" if more else None
        return _ok({"elements": chunk, "nextPage": next_page})

    def list_surveys(request: Request) -> Response:
        return page(request, surveys, "/surveys")

    def opted_out_contacts(request: Request) -> Response:
        directory = request.path.split("/")[4]
        if directory != DIRECTORY_ID:
            return _error(404, "Directory not found", "RES_NOT_FOUND")
        contacts = [
            {
                "contactId": f"CID_{user_id:010d}",
                "firstName": None,
                "lastName": None,
                "email": user_email(user_id),
                "phone": None,
                "extRef": str(user_id),
                "language": "FR",
                "unsubscribed": True,
                "directoryUnsubscribed": True,
                "directoryUnsubscribeDate": (FIRST_DAY + dt.timedelta(days=k % 60)).isoformat()
                + "T12:00:00Z",
            }
            for k, user_id in enumerate(opted_out)
        ]
        return page(request, contacts, request.path.removeprefix("/API/v3"))

    def responses(index: int, start: dt.datetime, end: dt.datetime) -> list[list[str]]:
        rows = []
        day = max(start.date(), FIRST_DAY)
        while dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) < end:
            rng = random.Random(f"{data.seed}-qualtrics-{index}-{day}")
            for k in range(responses_per_day):
                recorded = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(
                    seconds=int((k + 0.5) * 86_400 / responses_per_day)
                )
                if not start <= recorded < end:
                    continue
                user_id = users[rng.randrange(len(users))]
                finished = rng.random() < 0.85
                stamp = recorded.strftime("%Y-%m-%d %H:%M:%S")
                begun = (recorded - dt.timedelta(minutes=4)).strftime("%Y-%m-%d %H:%M:%S")
                meta = [
                    begun,
                    stamp,
                    "0",
                    "192.0.2.1",
                    "100" if finished else "40",
                    "240",
                    "1" if finished else "0",
                    stamp,
                    f"R_{index:02d}{day:%m%d}{k:04d}x",
                    "",
                    "",
                    user_email(user_id),
                    str(user_id),
                    "48.85",
                    "2.35",
                    "email",
                    "FR",
                ]
                answers = [
                    str(rng.randrange(0, 11)),
                    "1" if rng.random() < 0.6 else "",
                    "1" if rng.random() < 0.3 else "",
                    "1" if rng.random() < 0.4 else "",
                    rng.choice(COMMENTS) if finished else "",
                ]
                rows.append(meta + answers)
            day += dt.timedelta(days=1)
        return rows

    def export_file(index: int, start: dt.datetime, end: dt.datetime) -> bytes:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([c[0] for c in META_COLUMNS] + [q[0] for q in QUESTIONS])
        writer.writerow([c[1] for c in META_COLUMNS] + [q[1] for q in QUESTIONS])
        writer.writerow([c[2] for c in META_COLUMNS] + [json.dumps({"ImportId": q[2]}) for q in QUESTIONS])
        writer.writerows(responses(index, start, end))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{surveys[index]['name']}.csv", text.getvalue().encode("utf-8-sig"))
        return buffer.getvalue()

    def _survey(request: Request) -> int | None:
        return survey_ids.get(request.path.split("/")[4])

    def start_export(request: Request) -> Response:
        index = _survey(request)
        if index is None:
            return _error(404, "Survey not found", "RES_NOT_FOUND")
        body = request.json() or {}
        if body.get("format") != "csv":
            return _error(400, "format must be one of csv, tsv, spss, json, ndjson, xml", "QVAL_1")
        try:
            start = utc_timestamp(body.get("startDate")) or dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
            end = utc_timestamp(body.get("endDate")) or dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
        except ValueError:
            return _error(400, "startDate and endDate must be ISO 8601 date-times", "QVAL_2")
        progress_id = f"ES_{uuid.uuid4().hex[:12]}"
        with lock:
            exports[progress_id] = {"survey": index, "start": start, "end": end, "polls": 0, "file": None}
        return _ok({"progressId": progress_id, "percentComplete": 0.0, "status": "inProgress"})

    def export_progress(request: Request) -> Response:
        progress_id = request.path.rsplit("/", 1)[-1]
        with lock:
            job = exports.get(progress_id)
            if job is None or job["survey"] != _survey(request):
                return _error(404, "Export not found", "RES_NOT_FOUND")
            job["polls"] += 1
            done = export_polls >= 0 and job["polls"] > export_polls
            if done and job["file"] is None:
                job["file"] = f"{uuid.uuid4()}-def"
                exports[job["file"]] = job
        if not done:
            percent = (
                min(99.0, 100.0 * job["polls"] / max(export_polls + 1, 1)) if export_polls >= 0 else 10.0
            )
            return _ok({"percentComplete": percent, "status": "inProgress"})
        return _ok({"fileId": job["file"], "percentComplete": 100.0, "status": "complete"})

    def export_download(request: Request) -> Response:
        file_id = request.path.split("/")[-2]
        with lock:
            job = exports.get(file_id)
        if job is None or job["file"] != file_id:
            return _error(404, "File not found", "RES_NOT_FOUND")
        return Response(
            200, export_file(job["survey"], job["start"], job["end"]), content_type="application/zip"
        )

    return VendorApp(
        name="qualtrics",
        base_path="/API/v3",
        routes=[
            ("GET", "/surveys", list_surveys),
            ("POST", r"/surveys/[^/]+/export-responses", start_export),
            ("GET", r"/surveys/[^/]+/export-responses/[^/]+/file", export_download),
            ("GET", r"/surveys/[^/]+/export-responses/[^/]+", export_progress),
            ("GET", r"/directories/[^/]+/contacts/optedOutContacts", opted_out_contacts),
        ],
        auth=auth,
        env={
            "DATA_GCP_QUALTRICS_BASE_URL": "{base_url}",
            "QUALTRICS_API_TOKEN": LOCAL_TOKEN,
            "DATA_GCP_QUALTRICS_DIRECTORY_ID": DIRECTORY_ID,
        },
    )
