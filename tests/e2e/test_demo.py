"""The demo district `make run` seeds: through the real services, once."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from pymongo import MongoClient

from devstack import demo, demo_content
from devstack.run import Endpoints, api_url, service_env
from devstack.tokens import issue_token
from portal.service.dossiers import TZ
from tests.running_services import running_services, shared_data_dir

pytestmark = pytest.mark.e2e

DOSSIERS = 24
# Every state a small demo reaches (the plan gives each fate at least once).
STATES = {
    "submitted",
    "accepted",
    "in_progress",
    "awaiting_approval",
    "approved",
    "result_ready",
    "returned",
    "supplement_requested",
    "refused",
    "withdrawn",
    "rejected",
    "stopped",
}


@pytest.fixture(scope="module")
def seeded(infra, jwt_keys, signing_certs, tmp_path_factory) -> Iterator[dict[str, Any]]:
    data_dir = shared_data_dir(tmp_path_factory)
    with running_services(infra, jwt_keys[1], signing_certs, tmp_path_factory, data_dir=data_dir) as ports:
        endpoints = Endpoints(infra.mongo_url, infra.bootstrap, infra.mailpit.smtp_url, infra.mailpit.api_url)
        env = service_env(endpoints, ports, jwt_keys[1], data_dir, signing_certs)
        summary = demo.seed(env, ports, dossiers=DOSSIERS, progress=False, private_key=jwt_keys[0])
        client: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_url, retryWrites=False, tz_aware=True)
        try:
            yield {"ports": ports, "env": env, "summary": summary, "mongo": client}
        finally:
            client.close()


def processing_dossiers(seeded) -> list[dict[str, Any]]:
    codes = seeded["summary"].codes
    return list(seeded["mongo"]["motcua_processing"].dossiers.find({"_id": {"$in": codes}}))


def test_the_dossiers_reach_every_state_through_the_workflow(seeded, jwt_keys):
    summary = seeded["summary"]
    assert not summary.skipped and summary.failures == []
    assert summary.dossiers == len(summary.codes) == DOSSIERS
    dossiers = processing_dossiers(seeded)
    assert {d["state"] for d in dossiers} == STATES
    assert {d["channel"] for d in dossiers} == {"online", "counter"}
    returned = [d for d in dossiers if d["state"] == "returned"]
    assert {d["timeliness"] for d in returned} == {"early", "on_time", "late"}
    assert all(d["result"]["signed"] for d in returned), "each returned result was signed"
    # The citizen's supplement came through intake's event, the extension from the leader.
    assert any(h["action"] == "supplemented" for d in dossiers for h in d["history"])
    assert any(d.get("extended") for d in returned)
    assert {d["unit"] for d in dossiers} - {d["receiving_unit"] for d in dossiers}, "some went to an office"
    # Spread over the past months, each step after the one before.
    filed = sorted(d["submitted_at"] for d in dossiers)
    assert (filed[-1] - filed[0]).days > 30
    for d in dossiers:
        # (Processing notes intake's events, a supplement or a withdrawal, when it applies them,
        # and its deadline watch a dossier overdue when it finds it.)
        times = [
            h["when"] for h in d["history"] if h["action"] not in ("supplemented", "withdrawn", "overdue")
        ]
        assert times == sorted(times), d["_id"]

    # The officers' queues show them (processing's API, an officer of every unit).
    units = sorted({d["unit"] for d in dossiers} | {d["receiving_unit"] for d in dossiers})
    token = issue_token(["leader", "receptionist"], units, user_id="kiem-tra", private_key=jwt_keys[0])
    listed = requests.get(
        f"{api_url('processing', seeded['ports'])}/api/v1/dossiers",
        params=[("state", s) for s in sorted(STATES)] + [("limit", "100")],
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert listed.status_code == 200, listed.text
    shown = {item["code"]: item["state"] for item in listed.json()["items"]}
    assert {code: shown.get(code) for code in summary.codes} == {d["_id"]: d["state"] for d in dossiers}


def test_intake_and_the_portal_follow_each_dossier(seeded):
    dossiers = {d["_id"]: d for d in processing_dossiers(seeded)}
    portal = {
        d["_id"]: d for d in seeded["mongo"]["motcua_portal"].dossiers.find({"_id": {"$in": list(dossiers)}})
    }
    intake = {
        d["_id"]: d for d in seeded["mongo"]["motcua_intake"].dossiers.find({"_id": {"$in": list(dossiers)}})
    }
    assert set(portal) == set(intake) == set(dossiers)
    for code, dossier in dossiers.items():
        if dossier["state"] == "withdrawn":
            assert intake[code]["status"] == "withdrawn" and portal[code].get("withdrawn"), code
        elif dossier["sequence"]:
            # A proposal stays inside the office: the portal knows the dossier in progress.
            published = "in_progress" if dossier["state"] == "awaiting_approval" else dossier["state"]
            assert portal[code]["processing_state"] == published, code
        else:
            assert dossier["state"] == "submitted" and portal[code].get("processing_state") is None


def test_the_portals_statistics_count_the_dossiers(seeded):
    """Each dossier's facts are in its unit's counter of its month, once (the counters' keys)."""
    counters = {c["_id"]: c for c in seeded["mongo"]["motcua_portal"].stats_counters.find({})}
    expected: dict[str, list[str]] = {}
    for d in processing_dossiers(seeded):
        unit, code = d["receiving_unit"], d["_id"]

        def fact(when, name: str, unit=unit, code=code) -> None:
            expected.setdefault(f"{unit}|{when.astimezone(TZ):%Y-%m}", []).append(f"{code}:{name}")

        if d["received_at"] is not None:
            fact(d["received_at"], "received")
        if d["state"] in ("returned", "rejected", "stopped"):
            fact(d["resolved_at"], "resolved")
        if d["state"] == "refused":
            fact(d["resolved_at"], "refused")
    assert len(expected) > 3, "several units and months"
    for counter_id, keys in expected.items():
        applied = set(counters.get(counter_id, {}).get("applied_events", []))
        assert set(keys) <= applied, counter_id
    ratings = list(seeded["mongo"]["motcua_portal"].ratings.find({"_id": {"$in": seeded["summary"].codes}}))
    assert len(ratings) == seeded["summary"].rated > 0
    for rating in ratings:
        assert f"{rating['_id']}:rated" in counters[f"{rating['unit']}|{rating['month']}"]["applied_events"]

    # The public page of the months the demo covers shows the totals (at least the demo's).
    months = sorted(expected)
    first, last = months[0].split("|")[1], max(m.split("|")[1] for m in months)
    page = requests.get(
        f"{api_url('portal', seeded['ports'])}/thong-ke", params={"from": first, "to": last}, timeout=30
    )
    assert page.status_code == 200
    received = sum(1 for keys in expected.values() for k in keys if k.endswith(":received"))
    numbers = [int(n.replace(".", "")) for n in re.findall(r"\b\d[\d.]*\b", html.unescape(page.text))]
    assert any(n >= received for n in numbers)


def test_the_articles_and_documents_are_published_on_the_portal(seeded):
    summary = seeded["summary"]
    assert summary.articles == len(demo_content.ARTICLES) == 20
    assert summary.documents == len(demo_content.DOCUMENTS) == 20
    base = api_url("portal", seeded["ports"])

    def listed(path: str, pages: int = 4) -> str:
        text = ""
        for number in range(1, pages + 1):
            answer = requests.get(f"{base}{path}", params={"page": number}, timeout=30)
            assert answer.status_code == 200
            text += html.unescape(answer.text)
        return text

    news = listed("/tin-tuc")
    assert all(item["title"] in news for item in demo_content.ARTICLES)
    documents = listed("/van-ban")
    for item in demo_content.DOCUMENTS:
        assert f"{item['doc_type']} số {item['number']}" in documents
    # Issued over the past months: the list shows the dates.
    assert len(set(re.findall(r"\b\d{2}/\d{2}/\d{4}\b", documents))) >= 10

    # The newer decision replaced the older one; each document has its PDF.
    found = seeded["mongo"]["motcua_portal"].documents.find(
        {"number": {"$in": ["412/QĐ-UBND", "1536/QĐ-UBND"]}}
    )
    by_number = {d["number"]: d for d in found}
    older, newer = by_number["412/QĐ-UBND"], by_number["1536/QĐ-UBND"]
    assert older["legal_status"] == "replaced" and older["replaced_by"] == newer["_id"]
    pdf = requests.get(f"{base}/van-ban/{newer['_id']}/tep.pdf", timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_a_second_run_adds_nothing(seeded, jwt_keys):
    mongo = seeded["mongo"]

    def counts() -> tuple[int, ...]:
        return (
            mongo["motcua_intake"].dossiers.count_documents({}),
            mongo["motcua_processing"].dossiers.count_documents({}),
            mongo["motcua_portal"].articles.count_documents({}),
            mongo["motcua_portal"].documents.count_documents({}),
        )

    before = counts()
    again = demo.seed(
        seeded["env"], seeded["ports"], dossiers=DOSSIERS, progress=False, private_key=jwt_keys[0]
    )
    assert again.skipped and again.codes == [] and again.articles == 0
    assert counts() == before
