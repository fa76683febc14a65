"""Every service as real processes (gunicorn API + worker under honcho, as `make run` starts them)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kafka import KafkaAdminClient
from pymongo import MongoClient

from devstack.infra import wait_until
from devstack.paths import ROOT
from devstack.run import (
    SERVICES,
    api_url,
    worker_url,
)
from devstack.tokens import issue_token
from eventkit.envelope import decode
from eventkit.kafka import ensure_topics
from eventkit.secrets import verify_secret
from eventkit.topics import all_topic_specs
from tests.factories import PROCEDURE, online_filing, pdf_bytes
from tests.integration.kafka_tools import read_topic
from tests.running_services import running_services

SEED = ROOT / "services" / "processing" / "processing" / "seed"
# The shipped catalogue: other tiers publish their own procedures and units on the same broker, so
# the projections are checked for these, not for an exact total.
SEED_PROCEDURES = [p["code"] for p in json.loads((SEED / "procedures.json").read_text())]
SEED_UNITS = [u["code"] for u in json.loads((SEED / "units.json").read_text())]


def has_seed_catalogue(db) -> bool:
    return (
        db.procedures.count_documents({"_id": {"$in": SEED_PROCEDURES}}) == len(SEED_PROCEDURES) == 25
        and db.units.count_documents({"_id": {"$in": SEED_UNITS}}) == len(SEED_UNITS) == 23
    )


pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def running(infra, jwt_keys, signing_certs, tmp_path_factory) -> Iterator[dict[str, int]]:
    # Two processes per API, as deployed: dossier numbers are then contended across processes too.
    # Thousands of uploads come from this one address; the limit itself is tested in integration.
    with running_services(
        infra,
        jwt_keys[1],
        signing_certs,
        tmp_path_factory,
        GUNICORN_WORKERS="2",
        UPLOAD_RATE_LIMIT="100000/minute",
    ) as ports:
        yield ports


@pytest.mark.parametrize("service", SERVICES)
def test_probes_metrics_and_openapi_answer(running, service):
    base, worker = api_url(service, running), worker_url(service, running)
    assert requests.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"
    ready = requests.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["checks"] == {"store": True}
    worker_ready = requests.get(f"{worker}/readyz", timeout=5)
    assert worker_ready.status_code == 200 and worker_ready.json()["checks"] == {
        "store": True,
        "kafka": True,
        "running": True,
        "relay": True,
    }

    requests.get(f"{base}/healthz", timeout=5, headers={"X-Correlation-ID": "corr-123"})
    metrics = requests.get(f"{base}/metrics", timeout=5).text
    assert (
        f'http_requests_total{{endpoint="/healthz",method="GET",service="{service}",status="200"}}' in metrics
    )
    assert "outbox_events_published_total" in requests.get(f"{worker}/metrics", timeout=5).text

    spec = requests.get(f"{base}/openapi.json", timeout=5).json()
    assert spec["openapi"].startswith("3.")
    assert "/readyz" in spec["paths"] and "/healthz" in spec["paths"]
    page = requests.get(f"{base}/docs", timeout=5)
    assert page.status_code == 200 and "/docs/static/swagger-ui-bundle.js" in page.text
    assert requests.get(f"{base}/docs/static/swagger-ui-bundle.js", timeout=5).status_code == 200


def test_correlation_id_is_echoed_and_logged(running, infra, tmp_path_factory):
    base = api_url("intake", running)
    sent = "corr-e2e-1"
    response = requests.get(f"{base}/openapi.json", timeout=5, headers={"X-Correlation-ID": sent})
    assert response.headers["X-Correlation-ID"] == sent
    generated = requests.get(f"{base}/openapi.json", timeout=5).headers["X-Correlation-ID"]
    assert len(generated) == 36 and generated != sent

    log = sorted(Path(tmp_path_factory.getbasetemp()).glob("services*/honcho.log"))[-1]

    def logged(correlationid: str) -> list[dict[str, object]]:
        # honcho prefixes each line with the time and the process name: "12:00:00 intake.1 | {...}"
        records = []
        for line in log.read_text().splitlines():
            _, _, payload = line.partition("| ")
            try:
                record = json.loads(payload)
            except ValueError:
                continue  # a line that is not a log record (or one still being written)
            if isinstance(record, dict) and record.get("correlationid") == correlationid:
                records.append(record)
        return records

    assert wait_until(lambda: bool(logged(sent)), timeout=10), log.read_text()[-2000:]
    [line] = logged(sent)
    assert line["service"] == "intake" and line["message"] == "request"
    assert line["path"] == "/openapi.json" and line["status"] == 200
    assert wait_until(lambda: bool(logged(generated)), timeout=10), "a generated id is logged too"


def test_workers_create_every_registered_topic(running, infra):
    admin = KafkaAdminClient(bootstrap_servers=infra.bootstrap)
    try:
        existing = set(admin.list_topics())
    finally:
        admin.close()
    assert {spec.name for spec in all_topic_specs()} - existing == set()
    assert ensure_topics(infra.bootstrap, all_topic_specs()) == [], "creating again changes nothing"


def test_staff_token_rules(running, jwt_keys):
    me = f"{api_url('processing', running)}/api/v1/me"
    token = issue_token(["receptionist"], ["09496"], name="Nguyễn Thị Hoa", private_key=jwt_keys[0])
    response = requests.get(me, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert response.status_code == 200
    assert response.json()["name"] == "Nguyễn Thị Hoa"
    assert response.json()["roles"] == ["receptionist"] and response.json()["units"] == ["09496"]

    missing = requests.get(me, timeout=5)
    assert missing.status_code == 401 and missing.json()["message"].startswith("Cần đăng nhập")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert requests.get(me, headers={"Authorization": f"Bearer {forged}"}, timeout=5).status_code == 401


def test_readyz_fails_while_the_store_is_down_and_recovers(running, platform):
    urls = [f"{api_url(s, running)}/readyz" for s in SERVICES] + [
        f"{worker_url(s, running)}/readyz" for s in SERVICES
    ]
    platform.ferretdb.stop()
    try:
        for url in urls:
            response = requests.get(url, timeout=15)
            assert response.status_code == 503, url
            assert response.json()["checks"]["store"] is False
        # Liveness is not readiness: the process itself is still up.
        assert requests.get(f"{api_url('portal', running)}/healthz", timeout=5).status_code == 200
    finally:
        platform.ferretdb.start()
        platform.ferretdb.wait_ready()
    assert wait_until(
        lambda: all(requests.get(url, timeout=15).status_code == 200 for url in urls), timeout=60, interval=1
    )
    body = json.loads(requests.get(urls[0], timeout=5).text)
    assert body == {"status": "ok", "service": "portal", "checks": {"store": True}}


def test_log_lines_are_json_with_correlation_id(running, tmp_path_factory):
    requests.get(
        f"{api_url('notify', running)}/openapi.json", headers={"X-Correlation-ID": "corr-log-7"}, timeout=5
    )
    logs = sorted(Path(tmp_path_factory.getbasetemp()).glob("services*/honcho.log"))
    assert logs
    text = logs[-1].read_text()

    def found() -> bool:
        for line in logs[-1].read_text().splitlines():
            _, _, payload = line.partition("| ")
            if "corr-log-7" in payload:
                record = json.loads(payload)
                return record["correlationid"] == "corr-log-7" and record["service"] == "notify"
        return False

    assert wait_until(found, timeout=10), text[-2000:]


def test_the_seeded_catalogue_reaches_intake_and_the_portal_through_kafka(running, infra, staff_headers):
    client = MongoClient(infra.mongo_url, retryWrites=False)
    try:
        for service in ("intake", "portal"):
            db = client[f"motcua_{service}"]
            assert wait_until(
                lambda db=db: has_seed_catalogue(db),
                timeout=60,
                interval=0.5,
            ), service
        birth = client["motcua_intake"].procedures.find_one({"_id": "1.001193"})
        assert birth["name"] == "Thủ tục đăng ký khai sinh" and birth["version"] == 1
    finally:
        client.close()
    # The portal's worker wrote the public list's rows beside its projection: the pages show it.
    portal = api_url("portal", running)
    listed = requests.get(f"{portal}/thu-tuc", params={"unit": "09496", "field": "Hộ tịch"}, timeout=5)
    assert listed.status_code == 200 and 'href="/thu-tuc/1.001193"' in listed.text
    detail = requests.get(f"{portal}/thu-tuc/1.001193", timeout=5)
    assert detail.status_code == 200 and "<h1>Thủ tục đăng ký khai sinh</h1>" in detail.text
    due = requests.get(
        f"{api_url('processing', running)}/api/v1/calendar/due",
        params={"procedure": "1.004884", "received_at": "2023-10-27T09:32:00+07:00"},
        headers=staff_headers("receptionist", "09496"),
        timeout=5,
    )
    assert due.status_code == 200 and due.json()["due_at"] == "2023-11-03T09:32:00+07:00"


def test_an_online_filing_goes_from_intake_over_kafka(running, infra, jwt_keys):
    base = api_url("intake", running)
    client = MongoClient(infra.mongo_url, retryWrites=False)
    try:
        intake_db = client["motcua_intake"]
        assert wait_until(
            lambda: has_seed_catalogue(intake_db),
            timeout=60,
        ), "intake's catalogue projection is filled by its worker"
    finally:
        client.close()
    pdf = pdf_bytes(2048)
    uploaded = requests.post(
        f"{base}/api/v1/uploads", files={"file": ("to-khai.pdf", pdf)}, timeout=10
    ).json()
    filing = {
        "procedure_code": "1.004884",
        "unit": "09496",
        "channel": "online",
        "applicant": {
            "full_name": "Trần Văn Nam",
            "id_number": "027085001122",
            "date_of_birth": "1985-02-03",
            "phone": "0987654321",
        },
        "delivery": {"method": "online"},
        "form": {
            "person_full_name": "Trần Văn Nam",
            "person_birth_date": "1985-02-03",
            "original_registration_place": "UBND thị trấn Thứa",
        },
        "documents": [{"type": "TP01", "upload_id": uploaded["id"]}],
    }
    response = requests.post(
        f"{base}/api/v1/dossiers", json=filing, headers={"X-Correlation-ID": "e2e-file-1"}, timeout=10
    )
    assert response.status_code == 201, response.text
    code = response.json()["code"]

    def published() -> bool:
        records = read_topic(infra.bootstrap, "intake.dossiers.v1", expect=1, timeout=2)
        return any(r.key == code.encode() for r in records)

    assert wait_until(published, timeout=30, interval=1), "the intake worker's relay publishes the event"
    [event] = [
        decode(r.value)
        for r in read_topic(infra.bootstrap, "intake.dossiers.v1", expect=1, timeout=2)
        if r.key == code.encode()
    ]
    assert event["type"] == "vn.motcua.intake.dossier.submitted.v1" and event["correlationid"] == "e2e-file-1"

    # Processing's worker takes the filing in; its detail links the document to intake's download,
    # which the officer fetches with their own token.
    token = issue_token(["receptionist"], ["09496"], user_id="tn.09496", private_key=jwt_keys[0])
    officer = {"Authorization": f"Bearer {token}"}
    detail_url = f"{api_url('processing', running)}/api/v1/dossiers/{code}"

    def in_processing() -> bool:
        return requests.get(detail_url, headers=officer, timeout=5).status_code == 200

    assert wait_until(in_processing, timeout=30, interval=0.5), "processing consumes the submitted event"
    [document] = requests.get(detail_url, headers=officer, timeout=5).json()["documents"]
    assert document["download_url"] == f"{base}/api/v1/uploads/{uploaded['id']}"
    download = requests.get(document["download_url"], headers=officer, timeout=10)
    assert download.status_code == 200 and download.content == pdf
    assert requests.get(document["download_url"], timeout=10).status_code == 401

    # The demo directory that `make run` seeds: the town's leader assigns to its specialist.
    assert (
        requests.post(f"{detail_url}/actions/accept", json={}, headers=officer, timeout=10).status_code == 200
    )
    leader = issue_token(["leader"], ["09496"], user_id="ld.09496", private_key=jwt_keys[0])
    assigned = requests.post(
        f"{detail_url}/actions/assign",
        json={"assignee": "cv1.09496"},
        headers={"Authorization": f"Bearer {leader}"},
        timeout=10,
    )
    assert assigned.status_code == 200 and assigned.json()["assignee"] == "cv1.09496", assigned.text


def test_2000_filings_from_8_concurrent_clients_get_distinct_codes_without_gaps_and_all_go_out(
    running, infra
):
    """Circular 01/2018 codes under load: 8 clients file 250 dossiers each (upload, then filing)
    into one unit at once, through the API's worker processes and threads."""
    base = api_url("intake", running)
    client = MongoClient(infra.mongo_url, retryWrites=False)
    intake_db = client["motcua_intake"]
    try:
        assert wait_until(lambda: intake_db.procedures.count_documents({"_id": PROCEDURE}) == 1, timeout=60)
        codes: list[str] = []
        secrets: dict[str, str] = {}
        failures: list[str] = []
        lock = threading.Lock()
        pdf = pdf_bytes(4096)

        def client_files() -> None:
            mine, failed = [], []
            with requests.Session() as session:
                for _ in range(250):
                    upload = session.post(
                        f"{base}/api/v1/uploads", files={"file": ("a.pdf", pdf)}, timeout=60
                    )
                    if upload.status_code != 201:
                        failed.append(f"upload {upload.status_code} {upload.text[:200]}")
                        continue
                    filed = session.post(
                        f"{base}/api/v1/dossiers", json=online_filing(upload.json()["id"]), timeout=60
                    )
                    if filed.status_code != 201:
                        failed.append(f"filing {filed.status_code} {filed.text[:200]}")
                        continue
                    mine.append((filed.json()["code"], filed.json()["lookup_secret"]))
            with lock:
                codes.extend(code for code, _ in mine)
                secrets.update(mine)
                failures.extend(failed)

        clients = [threading.Thread(target=client_files) for _ in range(8)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        assert not failures, failures[:5]
        assert len(codes) == 2000 and len(set(codes)) == 2000

        # Per unit and day (the run may cross midnight), every number from 1 up is given, once,
        # including those of other tests' filings.
        for prefix in {code.rsplit("-", 1)[0] for code in codes}:
            given = [
                d["_id"]
                for d in intake_db.dossiers.find({"_id": {"$regex": f"^{re.escape(prefix)}-"}}, {"_id": 1})
            ]
            numbers = sorted(int(code.rsplit("-", 1)[1]) for code in given)
            assert numbers == list(range(1, len(numbers) + 1)), prefix

        # Every dossier's event leaves intake: the relay drains the outbox...
        assert wait_until(
            lambda: intake_db.dossiers.count_documents({"outbox_pending": True}) == 0,
            timeout=180,
            interval=1,
        ), "the relay published every dossier.submitted"
        # ...and each dossier's one `dossier.submitted` is on the topic (a resend repeats its id).
        # Other tests' stores give the same codes: an event is this run's when the secret
        # answered for its code matches the hash it carries.
        answered = set(codes)
        submitted: dict[str, set[str]] = {}

        def all_on_the_topic() -> bool:
            submitted.clear()
            for record in read_topic(infra.bootstrap, "intake.dossiers.v1", expect=2000, timeout=30):
                event = decode(record.value)
                code = event["subject"]
                if (
                    event["type"] == "vn.motcua.intake.dossier.submitted.v1"
                    and code in answered
                    and verify_secret(secrets[code], event["data"]["lookup_secret_hash"])
                ):
                    assert record.key == code.encode(), "keyed by the dossier code"
                    submitted.setdefault(code, set()).add(event["id"])
            return len(submitted) == 2000

        assert wait_until(all_on_the_topic, timeout=120, interval=2), f"{len(submitted)} of 2000 on the topic"
        assert set(submitted) == answered
        assert all(len(ids) == 1 for ids in submitted.values()), "one event per dossier"
        assert len(set().union(*submitted.values())) == 2000, "distinct event ids"
    finally:
        client.close()
