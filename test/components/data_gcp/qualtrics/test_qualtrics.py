"""Qualtrics connector against the local Qualtrics server: nextPage lists, polled zip exports, opt-outs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging

import pyarrow.compute as pc
import pytest

from data_gcp.http_client import SourceError
from data_gcp.qualtrics.connector import answers_from_csv
from data_gcp.vendor_servers import connector_harness, fake_data
from data_gcp.vendor_servers.qualtrics import DIRECTORY_ID, LOCAL_TOKEN, QUESTIONS

DATA = fake_data(n_fake=500)  # every 40th user opted out: 13 contacts, 4 pages of 4
SERVER = {"n_surveys": 6, "page_size": 4, "responses_per_day": 6, "export_polls": 2}
ACTIVE = ["SV_local0000", "SV_local0001", "SV_local0003", "SV_local0004"]  # every third survey is inactive
DAY = "2025-01-13"  # a Monday run: answers recorded 2025-01-07..2025-01-13


HARNESS = {"system": "qualtrics", "data": DATA, **SERVER}


def test_answers_from_csv_melts_questions_and_keeps_no_personal_data():
    header = [
        "StartDate",
        "RecordedDate",
        "ResponseId",
        "RecipientEmail",
        "ExternalReference",
        "Finished",
        "Q1",
        "Q1",
        "Q2_TEXT",
    ]
    texts = ["Start", "Recorded", "Id", "Email", "Ref", "Finished", "Note ?\n(0-10)", "Dup", "Comment, free"]
    ids = [
        json.dumps({"ImportId": i})
        for i in (
            "startDate",
            "recordedDate",
            "_recordId",
            "recipientEmail",
            "externalDataReference",
            "finished",
            "QID1",
            "QID9",
            "QID2_TEXT",
        )
    ]
    rows = [
        [
            "2025-01-07 10:00:00",
            "2025-01-07 10:05:00",
            "R_1",
            "a@b.fr",
            "42",
            "1",
            "9",
            "",
            'multi\nline, "quoted"',
        ],
        ["2025-01-08 23:59:00", "2025-01-09 00:00:01", "R_2", "c@d.fr", "", "0", "", "", ""],
    ]
    text = io.StringIO()
    csv.writer(text).writerows([header, texts, ids, *rows])
    table = answers_from_csv(text.getvalue().encode("utf-8-sig"), "SV_x")
    assert table.num_rows == 2  # unanswered cells give no row; R_2 answered nothing
    by_question = {r["question"]: r for r in table.to_pylist()}
    assert by_question["Q1"]["question_text"] == "Note ?\n(0-10)" and by_question["Q1"]["answer"] == "9"
    assert by_question["Q2_TEXT"]["answer"] == 'multi\nline, "quoted"'
    assert by_question["Q1"]["user_id"] == "42" and by_question["Q1"]["is_finished"] is True
    assert by_question["Q1"]["recorded_at"] == dt.datetime(2025, 1, 7, 10, 5, tzinfo=dt.UTC)
    assert "a@b.fr" not in str(table.to_pylist())


def test_happy_path_pages_poll_sleeps_then_rerun_through_faults(vendor):
    first = vendor.run(DAY, DAY)
    assert first.rows["qualtrics_survey"] == 6
    assert vendor.server.requests_to(r"/surveys$")[1].param("offset") == "4"  # 6 surveys, pages of 4
    assert {r.header("X-API-TOKEN") for r in vendor.server.requests} == {LOCAL_TOKEN}
    surveys = vendor.table("qualtrics_survey")
    assert surveys.num_rows == 6 and set(surveys.column("snapshot_date").to_pylist()) == {
        dt.date(2025, 1, 13)
    }
    # one export per active survey, polled until complete with a sleep between polls
    exports = vendor.server.requests_to(r"/export-responses$")
    assert sorted(r.path.split("/")[4] for r in exports) == ACTIVE
    assert {(r.json()["format"], r.json()["startDate"], r.json()["endDate"]) for r in exports} == {
        ("csv", "2025-01-07T00:00:00Z", "2025-01-14T00:00:00Z")
    }
    assert len(vendor.server.requests_to(r"/export-responses/ES_")) == 3 * len(ACTIVE)
    assert vendor.clock.sleeps == [2.0] * (2 * len(ACTIVE))
    answers = vendor.table("qualtrics_answers")
    assert sorted(set(answers.column("survey_id").to_pylist())) == ACTIVE
    days = set(answers.column("recorded_date").to_pylist())
    assert days == {dt.date(2025, 1, 7) + dt.timedelta(days=i) for i in range(7)}
    per_response = answers.group_by(["survey_id", "response_id"]).aggregate([([], "count_all")])
    assert per_response.num_rows == len(ACTIVE) * 7 * SERVER["responses_per_day"]
    assert set(answers.column("question").to_pylist()) <= {q[0] for q in QUESTIONS}
    assert pc.all(pc.not_equal(answers["answer"], "")).as_py()
    opt_outs = vendor.table("qualtrics_opt_out_users")
    assert opt_outs.num_rows == len(DATA.user_ids[::40]) == 13
    assert len(vendor.server.requests_to(r"/contacts/optedOutContacts$")) == 4
    assert set(opt_outs.column("directory_id").to_pylist()) == {DIRECTORY_ID}

    # the same window again, through every transient fault (each retried, bounded): the same rows
    vendor.clock.sleeps.clear()
    faults = vendor.server.faults
    plan = [
        faults.add("status", r"/export-responses$", status=429, retry_after=7, method="POST"),
        faults.add("status", r"/export-responses/ES_", status=500),
        faults.add("timeout", r"/file$", delay=vendor.timeout + 0.5),
        faults.add("truncate", r"/file$"),  # half a zip, connection closed
        faults.add("invalid_json", r"/surveys$"),
        faults.add("empty", r"/contacts/optedOutContacts$", skip=1),  # page 2 of 4: no element, nextPage kept
    ]
    rerun = vendor.run(DAY, DAY)
    assert [f.fired for f in plan] == [1] * 6
    assert 7 in vendor.clock.sleeps
    assert rerun.rows["qualtrics_opt_out_users"] == 13  # never fewer rows
    assert vendor.table("qualtrics_answers").equals(answers)
    assert vendor.table("qualtrics_opt_out_users").equals(opt_outs)
    assert vendor.table("qualtrics_survey").equals(surveys)


def test_export_poll_times_out_cleanly(monkeypatch):
    with connector_harness("qualtrics", data=DATA, **{**SERVER, "export_polls": -1}) as harness:
        monkeypatch.setenv("DATA_GCP_QUALTRICS_EXPORT_TIMEOUT_SECONDS", "30")
        monkeypatch.setenv("DATA_GCP_QUALTRICS_POLL_SECONDS", "4")
        with pytest.raises(
            SourceError, match=r"qualtrics: .*export-responses.* not complete after 8 poll\(s\) in 30s"
        ):
            harness.run(DAY, DAY)
        assert harness.clock.sleeps == [4.0] * 7  # slept between polls, never longer than the deadline
        assert len(harness.server.requests_to(r"/export-responses/ES_")) == 8
        assert harness.table("qualtrics_survey") is None  # the surveys were read, nothing written


def test_expired_token_fails_cleanly_and_no_token_in_logs(vendor, caplog):
    vendor.server.faults.add("status", r"/surveys$", status=503)
    vendor.server.faults.add("status", r"/export-responses$", status=401, times=-1)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as err:
        vendor.run(DAY, DAY)
    assert "qualtrics: POST /API/v3/surveys/SV_local0000/export-responses failed (HTTP 401)" in str(err.value)
    assert "retrying" in caplog.text
    assert LOCAL_TOKEN not in caplog.text and LOCAL_TOKEN not in str(err.value)
    assert vendor.table("qualtrics_survey") is None and vendor.table("qualtrics_answers") is None


def test_opt_outs_are_read_at_the_documented_contacts_path(vendor):
    tables = vendor.extract(DAY, DAY, objects="opt_out_users")
    assert tables["qualtrics_opt_out_users"].num_rows == 13
    paths = {r.path for r in vendor.server.requests}
    assert paths == {f"/API/v3/directories/{DIRECTORY_ID}/contacts/optedOutContacts"}


def test_a_next_page_on_another_host_never_receives_the_token(vendor):
    from data_gcp.vendor_servers import start_vendor

    with start_vendor("qualtrics", DATA, **SERVER) as elsewhere:

        def elsewhere_next(body):
            result = body.get("result") or {}
            if result.get("nextPage"):
                result["nextPage"] = result["nextPage"].replace(vendor.server.url, elsewhere.url)
            return body

        vendor.server.faults.add("transform", r"/contacts/optedOutContacts$", transform=elsewhere_next)
        with pytest.raises(SourceError, match=r"\(HTTP 401\)"):  # refused there: no token was sent
            vendor.extract(DAY, DAY, objects="opt_out_users")
        assert elsewhere.requests and all(r.header("X-API-TOKEN") is None for r in elsewhere.requests)
