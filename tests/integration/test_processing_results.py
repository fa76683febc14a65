"""Result files on the real store: a draft uploaded, signed by the dossier's unit on issue, kept in
processing's blob store and downloaded intact."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from urllib.parse import urlparse

import pytest

from eventkit.signing import verify_result
from processing import store
from processing.config import load_config
from tests.factories import image_bytes, pdf_bytes
from tests.integration import test_processing_workflow as workflow
from tests.integration.test_processing_workflow import (
    CODE,
    OFFICE,
    UNIT,
    act,
    deliver,
    events,
    submitted,
    verbs,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("directory_staff")]

# The workflow tests' fixtures: a store with the catalogue, its client, and officers' headers.
db = workflow.db
client = workflow.client
as_ = workflow.as_

UNIT_NAME = "Ủy ban nhân dân thị trấn Thứa"
DISTRICT = "264"  # a unit that resolves nothing in the seed catalogue, so has no certificate


def upload(client, headers, data: bytes, name: str = "ket-qua.pdf", query: str = ""):
    return client.post(
        f"/api/v1/result-files{query}",
        data={"file": (io.BytesIO(data), name, "application/pdf")},
        content_type="multipart/form-data",
        headers=headers,
    )


def to_approved(client, as_, unit: str = UNIT, delivery: str = "counter") -> None:
    """A counter filing (accepted on arrival) taken through the API to `approved` in `unit`."""
    filed = submitted("counter")
    filed["data"]["delivery"] = {"method": delivery, "address": None}
    deliver(client.application.extensions["db"], filed)
    if unit != UNIT:
        moved = act(client, "transfer", as_("receptionist"), to_unit=unit, note="Chuyển xử lý")
        assert moved.status_code == 200, moved.json
    for action, role, body in [
        ("assign", "leader", {"assignee": "specialist-1"}),
        ("propose", "specialist", {"note": "Đề nghị cấp"}),
        ("approve", "leader", {"note": "Đồng ý"}),
    ]:
        response = act(client, action, as_(role, unit), **body)
        assert response.status_code == 200, (action, response.json)
    assert response.json["state"] == "approved"


def blob_files(service_environ) -> list[Path]:
    root = Path(urlparse(service_environ["BLOB_URL"]).path)
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_an_issued_result_is_signed_by_the_dossiers_unit_and_downloads_intact(db, client, as_, signing_certs):
    draft = pdf_bytes(3000)
    uploaded = upload(client, as_("specialist"), draft)
    assert uploaded.status_code == 201, uploaded.json
    file_id = uploaded.json["id"]
    assert uploaded.json == {"id": file_id, "sha256": hashlib.sha256(draft).hexdigest(), "size": len(draft)}
    record = store.get_result_file(db, file_id)
    assert (record["unit"], record["created_by"], record["size"]) == (UNIT, "specialist-1", len(draft))

    to_approved(client, as_)
    assert client.get(f"/api/v1/dossiers/{CODE}/result", headers=as_("leader")).status_code == 404

    issued = act(client, "issue_result", as_("leader"), upload_id=file_id)
    assert issued.status_code == 200, issued.json
    assert issued.json["state"] == "result_ready"
    result = issued.json["result"]
    assert result["file_id"] == file_id and result["signed"] is True
    assert result["signed_by_unit"] == UNIT and result["issued_by"] == "leader-1"

    download = client.get(f"/api/v1/dossiers/{CODE}/result", headers=as_("receptionist"))
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    signed = download.data
    assert signed.startswith(draft), "the signature is appended as an incremental update"
    assert hashlib.sha256(signed).hexdigest() == result["sha256"] and len(signed) == result["size"]

    verified = verify_result(signed, signing_certs)
    assert (verified.intact, verified.valid, verified.trusted, verified.covers_whole_file) == (
        True,
        True,
        True,
        True,
    )
    assert verified.unit_code == UNIT and verified.signer_name == UNIT_NAME

    assert verbs(db)[-1] == "result_issued"
    event = events(db)[-1]
    assert event["data"]["result"] == {
        "file_id": file_id,
        "sha256": hashlib.sha256(signed).hexdigest(),
        "size": len(signed),
        "signed": True,
        "signed_by_unit": UNIT,
        "file_sent": False,  # delivered at the counter: the file stays with processing
    }
    assert [e["type"] for e in events(db)].count("vn.motcua.processing.result.issued.v1") == 0
    # The one-stop unit follows the dossier; others do not read its result.
    assert client.get(f"/api/v1/dossiers/{CODE}/result", headers=as_("leader", "09499")).status_code == 403
    assert client.get(f"/api/v1/dossiers/{CODE}/result").status_code == 401


def test_only_a_well_formed_pdf_within_the_limit_is_a_result_file(db, client, as_, service_environ):
    png = upload(client, as_("leader"), image_bytes("PNG"), name="anh.png")
    assert png.status_code == 415 and png.json["message"] == "Kết quả giải quyết chỉ nhận tệp PDF."
    header_only = upload(client, as_("leader"), b"%PDF-1.4\n" + b"x" * 500)
    assert header_only.status_code == 415 and "PDF" in header_only.json["message"]
    empty = upload(client, as_("leader"), b"")
    assert empty.status_code == 422 and "file" in empty.json["errors"]["json"]
    assert upload(client, as_("receptionist"), pdf_bytes()).status_code == 403
    assert upload(client, as_("leader"), pdf_bytes(), query=f"?unit={OFFICE}").status_code == 403
    assert blob_files(service_environ) == [], "nothing refused is kept"

    from processing import create_app

    one_mib = create_app(load_config(environ={**service_environ, "UPLOAD_MAX_BYTES": str(1024 * 1024)}))
    too_large = upload(one_mib.test_client(), as_("leader"), pdf_bytes(1024 * 1024 + 10_000))
    assert too_large.status_code == 413 and too_large.json["message"] == "Tệp vượt quá 1 MB."
    assert blob_files(service_environ) == []


def test_a_file_of_another_unit_is_not_issued(db, client, as_):
    theirs = upload(client, as_("leader", OFFICE, "leader-tp"), pdf_bytes()).json["id"]
    to_approved(client, as_)
    for upload_id in (theirs, "0" * 32):
        refused = act(client, "issue_result", as_("leader"), upload_id=upload_id)
        assert refused.status_code == 422, refused.json
        assert list(refused.json["errors"]["json"]) == ["upload_id"]
    dossier = client.get(f"/api/v1/dossiers/{CODE}", headers=as_("leader")).json
    assert dossier["state"] == "approved" and dossier["result"] is None
    assert verbs(db)[-1] == "approved"


def test_a_unit_without_a_certificate_cannot_issue_and_nothing_is_written(db, client, as_, service_environ):
    to_approved(client, as_, unit=DISTRICT)
    file_id = upload(client, as_("leader", DISTRICT), pdf_bytes()).json["id"]
    before = store.get_dossier(db, CODE)
    blobs_before = blob_files(service_environ)
    assert [path.name for path in blobs_before] == [file_id]

    refused = act(client, "issue_result", as_("leader", DISTRICT), upload_id=file_id)
    assert refused.status_code == 503, refused.json
    assert refused.json["message"] == f"Đơn vị {DISTRICT} chưa có chứng thư số để ký kết quả."
    assert store.get_dossier(db, CODE) == before
    assert verbs(db)[-1] == "approved"
    assert blob_files(service_environ) == blobs_before


def test_an_attempt_that_loses_the_write_leaves_the_issued_file_as_it_was(
    db, client, as_, processing_app, signing_certs
):
    from datetime import UTC, datetime

    from processing.service.results import ResultSigning
    from tests.integration.test_processing_workflow import _staff

    file_id = upload(client, as_("leader"), pdf_bytes()).json["id"]
    to_approved(client, as_)
    read_by_the_loser = store.get_dossier(db, CODE)
    issued = act(client, "issue_result", as_("leader"), upload_id=file_id).json["result"]
    # A second leader's issue read the dossier before the first was written: it signs and stores
    # its file, then its conditional write matches nothing.
    late = ResultSigning(processing_app.extensions["blobs"], str(signing_certs))
    lost = late.sign(db, read_by_the_loser, file_id, _staff("leader", UNIT, "leader-2"), datetime.now(UTC))
    assert lost["sha256"] != issued["sha256"]

    download = client.get(f"/api/v1/dossiers/{CODE}/result", headers=as_("leader"))
    assert hashlib.sha256(download.data).hexdigest() == issued["sha256"]
    assert store.get_dossier(db, CODE)["result"]["sha256"] == issued["sha256"]


def outbox_entries(db, code: str = CODE) -> list[dict]:
    return list(store.get_dossier_outbox(db, code))


@pytest.mark.parametrize(("limit", "sent"), [(None, True), (2000, False)])
def test_a_result_delivered_online_goes_to_notify_with_its_event_in_one_write(
    db, client, as_, processing_app, limit, sent
):
    from dataclasses import replace

    from eventkit.envelope import decode

    if limit is not None:  # RESULT_ATTACH_MAX_BYTES below the signed file's size
        config = processing_app.extensions["service_config"]
        processing_app.extensions["service_config"] = replace(config, result_attach_max_bytes=limit)
    draft = pdf_bytes(3000)
    file_id = upload(client, as_("specialist"), draft).json["id"]
    to_approved(client, as_, delivery="online")
    issued = act(client, "issue_result", as_("leader"), upload_id=file_id)
    assert issued.status_code == 200, issued.json
    result = issued.json["result"]
    signed = client.get(f"/api/v1/dossiers/{CODE}/result", headers=as_("leader")).data

    entries = outbox_entries(db)
    last = [
        decode(entry["value"].encode()) for entry in entries if entry["sequence"] == entries[-1]["sequence"]
    ]
    assert last[0]["type"] == "vn.motcua.processing.dossier.result_issued.v1"
    assert last[0]["data"]["result"]["file_sent"] is sent
    if not sent:
        assert len(last) == 1, "too large for an email: no file goes to notify"
        return
    issued_event, file_event = last
    [file_entry] = [entry for entry in entries if entry["topic"] == "processing.results.v1"]
    assert file_entry["key"] == CODE and file_entry["sequence"] == issued_event["sequence"]
    assert file_event["type"] == "vn.motcua.processing.result.issued.v1" and file_event["subject"] == CODE
    assert file_event["causationid"] == issued_event["causationid"]
    data = file_event["data"]
    content = base64.b64decode(data["content_base64"])
    assert content == signed and hashlib.sha256(content).hexdigest() == data["sha256"] == result["sha256"]
    assert (data["size"], data["file_id"], data["signed_by_unit"], data["media_type"]) == (
        len(signed),
        file_id,
        UNIT,
        "application/pdf",
    )
