"""The whole journey of one dossier, every service running as real processes (as `make run` starts
them), the citizen and the officers in Chromium.

A citizen finds "dang ky khai sinh" on the portal and files online with two files; the receipt and
the submitted email follow. The town's receptionist signs in to the console and accepts (Mẫu 01 by
email), assigns; the specialist asks for a supplement (Mẫu 02); the citizen supplements from the
lookup and the due time moves by the wait; the leader extends once (Mẫu 04 with the new date); the
result is proposed, approved, issued signed and returned; the citizen checks the signature of the
result they were mailed and rates the service. The portal's statistics equal processing's, and one
correlation id runs through every service's log lines about the dossier.

And a counter filing delivered by post: its receipt (Mẫu 01) goes into the day's print batch, and
the postal operator's `returned` report flags the dossier on the console for the counter staff.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from pymongo import MongoClient
from pypdf import PdfReader

from devstack.infra import wait_until
from devstack.run import DEV_POSTAL_HMAC_KEY, api_url
from devstack.tokens import issue_token
from eventkit.blobs import open_blob_store
from notify import postal
from notify import store as notify_store
from notify.service import letters as notify_letters
from processing import deadlines
from processing.service.calendar import calendar_for
from tests.browser.console_pages import sign_in, state_of, take
from tests.factories import online_filing, pdf_bytes
from tests.integration.notify_tools import Mailbox, new_address
from tests.running_services import running_services, shared_data_dir

pytestmark = pytest.mark.e2e

PROCEDURE = "1.004884"  # Thủ tục đăng ký lại khai sinh: 5 working days; TP01 mandatory, TP02 optional
UNIT = "09496"  # Thị trấn Thứa
TZ = deadlines.TZ


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """Where the services keep their files (notify's letters and print batches among them): the
    session's one folder, as every platform of the session shares the databases."""
    return shared_data_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def running(infra, jwt_keys, signing_certs, tmp_path_factory, data_dir) -> Iterator[dict[str, int]]:
    with running_services(infra, jwt_keys[1], signing_certs, tmp_path_factory, data_dir=data_dir) as ports:
        yield ports


@pytest.fixture(scope="module")
def stores(infra) -> Iterator[Any]:
    """The services' databases, read to know when a worker has caught up (never written)."""
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_url, retryWrites=False, tz_aware=True)
    yield client
    client.close()


@pytest.fixture(scope="module")
def portal(running, stores) -> str:
    """The portal once every service has the catalogue (published by processing over Kafka)."""
    url = api_url("portal", running)

    def catalogued() -> bool:
        return all(
            stores[f"motcua_{service}"].procedures.count_documents({"_id": PROCEDURE}) == 1
            for service in ("intake", "portal", "notify")
        )

    assert wait_until(catalogued, timeout=120, interval=1), "the catalogue did not reach every service"
    return url


def new_page(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    return context, context.new_page()


def look_up(page: Any, portal: str, code: str, secret: str, state: str, timeout: float = 60) -> None:
    """The lookup, again until the portal's read model shows `state` (its worker follows the events)."""

    def shows() -> bool:
        page.goto(f"{portal}/tra-cuu")
        page.fill("#code", code)
        page.fill("#secret", secret)
        page.click("form[action='/tra-cuu'] button[type=submit]")
        return bool(page.locator("#tinh-trang").count()) and page.inner_text("#tinh-trang") == state

    assert wait_until(shows, timeout=timeout, interval=1), f"the lookup never showed {state!r}"


def mails(mailbox: Mailbox, address: str, subject: str, timeout: float = 60) -> list[dict[str, Any]]:
    """The messages to `address` whose subject starts with `subject`, once there is one."""
    found: list[dict[str, Any]] = []

    def arrived() -> bool:
        found[:] = [m for m in mailbox.to(address) if str(m["Subject"]).startswith(subject)]
        return bool(found)

    assert wait_until(arrived, timeout=timeout, interval=1), f"no mail {subject!r} to {address}"
    return found


def attachment(mailbox: Mailbox, message: dict[str, Any], index: int = 0) -> tuple[str, bytes]:
    part = message["Attachments"][index]
    data = requests.get(f"{mailbox.api}/api/v1/message/{message['ID']}/part/{part['PartID']}", timeout=10)
    data.raise_for_status()
    return str(part["FileName"]), data.content


def pdf_text(data: bytes) -> str:
    text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def local(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%H:%M ngày %d/%m/%Y")


def log_records(log: Path) -> list[dict[str, Any]]:
    """The JSON log lines of every process (honcho prefixes each with its time and process name)."""
    records = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        _, _, payload = line.partition("| ")
        try:
            record = json.loads(payload)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def about(record: dict[str, Any], code: str) -> bool:
    return code in (record.get("subject"), record.get("dossier")) or code in str(record.get("path") or "")


def test_a_dossier_from_the_citizen_s_search_to_the_rating(
    running, portal, stores, browser, artifacts, infra, jwt_keys, tmp_path, tmp_path_factory
):
    console = api_url("processing", running)
    mailbox = Mailbox(infra.mailpit.api_url)
    email = new_address("khai-sinh")
    files = {}
    for name, size in (("to-khai", 2200), ("ban-sao-giay-khai-sinh", 1800), ("giay-uy-quyen", 1500)):
        files[name] = tmp_path / f"{name}.pdf"
        files[name].write_bytes(pdf_bytes(size))
    result_file = tmp_path / "ket-qua.pdf"
    result_file.write_bytes(pdf_bytes(3000))
    contexts = []
    try:
        # -- the citizen finds the procedure without diacritics and files online with two files
        context, citizen = new_page(browser)
        contexts.append(context)
        citizen.goto(f"{portal}/thu-tuc?q=dang+ky+khai+sinh")
        citizen.click(f"a[href='/thu-tuc/{PROCEDURE}']")
        citizen.click("text=Nộp hồ sơ trực tuyến")
        for selector, value in {
            "#applicant-full_name": "Lê Thị Thu Hà",
            "#applicant-id_number": "027191004321",
            "#applicant-date_of_birth": "1991-07-15",
            "#applicant-phone": "0912 888 111",
            "#applicant-email": email,
            "#form-person_full_name": "Nguyễn Minh Khôi",
            "#form-person_birth_date": "2016-04-20",
            "#form-original_registration_place": "UBND thị trấn Thứa",
        }.items():
            citizen.fill(selector, value)
        citizen.select_option("#unit", UNIT)
        citizen.set_input_files("#documents-TP01", str(files["to-khai"]))
        citizen.set_input_files("#documents-TP02", str(files["ban-sao-giay-khai-sinh"]))
        citizen.check("#delivery-method-online")
        with citizen.expect_response(lambda r: r.request.method == "POST" and "/nop-ho-so" in r.url) as sent:
            citizen.get_by_role("button", name="Nộp hồ sơ").click()
        filing_correlation = sent.value.headers["x-correlation-id"]
        assert citizen.locator("#ma-ho-so").count() == 1, citizen.inner_text("main")
        code = citizen.inner_text("#ma-ho-so").strip()
        secret = citizen.inner_text("#ma-tra-cuu").strip()
        citizen.screenshot(path=str(artifacts / "journey-filed.png"), full_page=True)
        [received] = mails(mailbox, email, f"Đã nhận hồ sơ {code}")

        # -- the receptionist accepts it in the console: the receipt (Mẫu 01) is mailed
        officer = {"Authorization": f"Bearer {issue_token(['leader'], [UNIT], private_key=jwt_keys[0])}"}
        detail = f"{console}/api/v1/dossiers/{code}"
        assert wait_until(
            lambda: requests.get(detail, headers=officer, timeout=5).status_code == 200, timeout=60
        ), "processing did not take the filing in"
        context, counter = new_page(browser)
        contexts.append(context)
        sign_in(counter, console, f"tn.{UNIT}")
        counter.goto(f"{console}/console/ho-so/{code}")
        assert len(counter.locator("#giay-to a").all()) == 2, "both files are linked from the dossier"
        take(counter, "accept", {"#accept-note": "Đủ thành phần hồ sơ"})
        assert state_of(counter) == "Đã tiếp nhận"
        due = datetime.fromisoformat(requests.get(detail, headers=officer, timeout=5).json()["due_at"])
        [receipt_mail] = mails(mailbox, email, f"Hồ sơ {code} đã được tiếp nhận")
        name, receipt = attachment(mailbox, receipt_mail)
        assert name.endswith(".pdf") and code in pdf_text(receipt)

        # -- the lookup shows it accepted with its due time
        look_up(citizen, portal, code, secret, "Đã tiếp nhận")
        assert local(due) in citizen.inner_text("main")

        # -- assigned, then the specialist asks for a supplement (Mẫu 02)
        take(counter, "assign", {"#assign-assignee": f"cv1.{UNIT}"})
        assert state_of(counter) == "Đang xử lý"
        context, specialist = new_page(browser)
        contexts.append(context)
        sign_in(specialist, console, f"cv1.{UNIT}")
        specialist.goto(f"{console}/console/ho-so/{code}")
        take(
            specialist,
            "request_supplement",
            {
                "#request_supplement-missing": "Văn bản ủy quyền",
                "#request_supplement-reason": "Người nộp là mẹ",
            },
        )
        asked = requests.get(detail, headers=officer, timeout=5).json()
        assert asked["state"] == "supplement_requested"
        mails(mailbox, email, f"Hồ sơ {code} cần bổ sung")

        # -- the citizen supplements from the lookup; the due time moves by the wait
        intake_db = stores["motcua_intake"]
        assert wait_until(
            lambda: intake_db.dossiers.find_one({"_id": code}, {"supplement_open": 1})["supplement_open"],
            timeout=60,
        ), "intake did not open the supplement"
        look_up(citizen, portal, code, secret, "Cần bổ sung hồ sơ")
        citizen.set_input_files("#bo-sung-TP04", str(files["giay-uy-quyen"]))
        citizen.fill("#bo-sung-ghi-chu", "Bổ sung văn bản ủy quyền")
        citizen.click("text=Gửi hồ sơ bổ sung")
        assert "Đã gửi hồ sơ bổ sung" in citizen.inner_text("h1")
        citizen.screenshot(path=str(artifacts / "journey-supplemented.png"), full_page=True)

        def resumed() -> dict[str, Any] | None:
            shown = requests.get(detail, headers=officer, timeout=5).json()
            return shown if shown["state"] == "in_progress" else None

        assert wait_until(lambda: resumed() is not None, timeout=60), "processing did not resume"
        back = resumed()
        assert back is not None and len(back["documents"]) == 3
        paused_at = datetime.fromisoformat(asked["paused_at"])
        brought = datetime.fromisoformat(back["supplement"]["supplemented_at"])
        calendar = calendar_for(stores["motcua_processing"], due.year - 1, due.year + 2)
        moved = datetime.fromisoformat(back["due_at"])
        assert moved == deadlines.shift_by_pause(calendar, due, paused_at, brought) >= due

        # -- the leader extends once: the apology (Mẫu 04) with the new date
        context, leader = new_page(browser)
        contexts.append(context)
        sign_in(leader, console, f"ld.{UNIT}")
        leader.goto(f"{console}/console/ho-so/{code}")
        new_due = (
            (moved + timedelta(days=3)).astimezone(TZ).replace(hour=16, minute=0, second=0, microsecond=0)
        )
        take(
            leader,
            "extend",
            {
                "#extend-reason": "Cần xác minh thông tin đăng ký khai sinh cũ",
                "#extend-new_due_at": new_due.strftime("%Y-%m-%dT%H:%M"),
            },
        )
        assert (
            datetime.fromisoformat(requests.get(detail, headers=officer, timeout=5).json()["due_at"])
            == new_due
        )
        [apology_mail] = mails(mailbox, email, f"Xin lỗi và hẹn lại ngày trả kết quả hồ sơ {code}")
        _, apology = attachment(mailbox, apology_mail)
        day, month_, year = new_due.day, new_due.month, new_due.year
        assert re.search(rf"0?{day}\s*(/|tháng)\s*0?{month_}\s*(/|năm)\s*{year}", pdf_text(apology)), (
            "the apology names the new date"
        )
        assert leader.locator("#thao-tac-extend").count() == 0, "a dossier is extended once only"

        # -- proposed, approved, issued signed, returned
        specialist.goto(f"{console}/console/ho-so/{code}")
        take(specialist, "propose", {"#propose-note": "Đủ điều kiện đăng ký lại khai sinh"})
        leader.goto(f"{console}/console/ho-so/{code}")
        take(leader, "approve")
        take(leader, "issue_result", files={"#issue_result-upload_id": result_file})
        assert state_of(leader) == "Có kết quả, chờ trả"
        [result_mail] = mails(mailbox, email, f"Hồ sơ {code} đã có kết quả")
        result_name, signed_result = attachment(mailbox, result_mail)
        assert result_name.endswith(".pdf") and b"/ByteRange" in signed_result
        counter.goto(f"{console}/console/ho-so/{code}")
        take(counter, "return_result", {"#return_result-method": "online"})
        assert state_of(counter) == "Đã trả kết quả"
        mails(mailbox, email, f"Kết quả hồ sơ {code} đã được trả")

        # -- the citizen checks the mailed result's signature, then rates the service
        citizen.goto(f"{portal}/kiem-tra-chu-ky")
        citizen.set_input_files(
            "#file", files=[{"name": result_name, "mimeType": "application/pdf", "buffer": signed_result}]
        )
        citizen.get_by_role("button", name="Kiểm tra chữ ký").click()
        citizen.wait_for_selector("#ket-qua")
        assert citizen.locator("#ket-qua").get_attribute("data-outcome") == "valid"
        assert citizen.locator("#don-vi-ky").inner_text() == "Ủy ban nhân dân thị trấn Thứa"
        look_up(citizen, portal, code, secret, "Đã trả kết quả")
        steps = citizen.inner_text("ol.steps")
        for step in (
            "Nộp hồ sơ",
            "Tiếp nhận hồ sơ",
            "Yêu cầu bổ sung hồ sơ",
            "Bổ sung hồ sơ",
            "Gia hạn",
            "Trả kết quả",
        ):
            assert step in steps, step
        for criterion in ("overall", "timeliness", "attitude", "convenience"):
            citizen.check(f"#{criterion}-very_satisfied")
        citizen.click("text=Gửi đánh giá")
        assert "Cảm ơn" in citizen.inner_text("main")
        citizen.screenshot(path=str(artifacts / "journey-rated.png"), full_page=True)
    finally:
        for context in contexts:
            context.close()

    # -- the portal's statistics equal processing's for the town and the month
    month = datetime.now(TZ).strftime("%Y-%m")
    pairs = {
        "received": "received_new",
        "received-online": "received_new_online",
        "received-counter": "received_new_counter",
        "resolved": "resolved",
        "resolved-early": "resolved_early",
        "resolved-on-time": "resolved_on_time",
        "resolved-late": "resolved_late",
    }
    stats_url = f"{console}/api/v1/stats"
    figures: dict[str, tuple[int, int]] = {}

    def agree() -> bool:
        [row] = requests.get(
            stats_url, params={"unit": UNIT, "from": month, "to": month}, headers=officer, timeout=10
        ).json()["rows"]
        page = requests.get(
            f"{portal}/thong-ke",
            params={"year": month[:4], "month": int(month[5:]), "unit": UNIT},
            timeout=10,
        ).text
        for element, field in pairs.items():
            shown = page.split(f'id="{element}">', 1)[1].split("<", 1)[0]
            figures[element] = (int(shown), int(row[field]))
        rated = int(page.split('id="rated">', 1)[1].split("<", 1)[0])
        return all(a == b for a, b in figures.values()) and rated >= 1

    assert wait_until(agree, timeout=60, interval=1), figures
    assert figures["resolved"][0] >= 1

    # -- one correlation id through every service's log lines about the dossier
    log = sorted(Path(tmp_path_factory.getbasetemp()).glob("services*/honcho.log"))[-1]

    def traced() -> dict[str, set[str]]:
        seen: dict[str, set[str]] = {}
        for record in log_records(log):
            if about(record, code):
                service = str(record.get("service")).removesuffix("-worker")  # API and worker alike
                seen.setdefault(service, set()).add(str(record.get("correlationid")))
        return seen

    assert wait_until(lambda: set(traced()) == {"intake", "processing", "notify", "portal"}, timeout=30), (
        traced()
    )
    assert traced() == dict.fromkeys(("intake", "processing", "notify", "portal"), {filing_correlation})


def staff(role: str, user_id: str, private_key: Path) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {issue_token([role], [UNIT], user_id=user_id, private_key=private_key)}"
    }


def test_a_counter_filing_by_post_goes_in_the_print_batch_and_a_returned_letter_is_flagged(
    running, portal, stores, browser, artifacts, jwt_keys, data_dir
):
    intake, notify, console = (api_url(s, running) for s in ("intake", "notify", "processing"))
    counter = staff("receptionist", f"tn.{UNIT}", jwt_keys[0])
    upload = requests.post(
        f"{intake}/api/v1/uploads", files={"file": ("to-khai.pdf", pdf_bytes(1600))}, timeout=10
    )
    assert upload.status_code == 201, upload.text
    address = "Thôn Phú Thọ, xã Phú Hòa, huyện Lương Tài, tỉnh Bắc Ninh"
    filing = {
        **online_filing(upload.json()["id"]),
        "channel": "counter",
        "delivery": {"method": "post", "address": address},
    }
    filing["applicant"] = {
        k: v for k, v in filing["applicant"].items() if k != "email"
    }  # no email: post only
    filed = requests.post(f"{intake}/api/v1/dossiers", json=filing, headers=counter, timeout=10)
    assert filed.status_code == 201, filed.text
    code = filed.json()["code"]

    # Notify signs the receipt (Mẫu 01) as a letter for the post, where it waits for the batch.
    letters: list[dict[str, Any]] = []

    def waiting() -> bool:
        answer = requests.get(
            f"{notify}/api/v1/letters", params={"dossier": code}, headers=counter, timeout=5
        )
        letters[:] = answer.json() if answer.status_code == 200 else []
        return any(x["template_id"] == "mau-01" and x.get("post") == "waiting" for x in letters)

    assert wait_until(waiting, timeout=90, interval=1), letters
    [receipt] = [x for x in letters if x["template_id"] == "mau-01"]
    assert receipt["by_post"] and receipt["address"] == filing["applicant"]["address"], "to the applicant"

    # The day's batch closes as notify's worker closes it once the cut-off has passed (run here
    # for the day the letter waits for: today, or tomorrow when today's was closed already).
    notify_db = stores["motcua_notify"]
    today = datetime.now(TZ).date()
    day = (
        today
        if (notify_store.get_batch(notify_db, today.isoformat()) or {}).get("status") != "closed"
        else today + timedelta(days=1)
    )
    blobs = open_blob_store((data_dir / "blobs" / "notify").as_uri())
    notify_letters.close_batch(notify_db, blobs, day, time(23, 59), datetime.now(UTC))
    batch = requests.get(f"{notify}/api/v1/batches/{day.isoformat()}", headers=counter, timeout=5).json()
    [item] = [i for i in batch["items"] if i["letter_id"] == receipt["letter_id"]]
    assert postal.valid_item_number(item["item_number"])
    manifest = requests.get(f"{notify}/api/v1/batches/{day.isoformat()}.csv", headers=counter, timeout=5)
    assert manifest.status_code == 200 and item["item_number"] in manifest.text
    printed = requests.get(f"{notify}/api/v1/batches/{day.isoformat()}.pdf", headers=counter, timeout=10)
    assert printed.status_code == 200 and code in pdf_text(printed.content)

    # The post brings it back: the operator's signed report; processing flags the dossier.
    now = datetime.now(UTC)
    report = json.dumps(
        {"id": f"bc-{code}", "status": "returned", "at": now.isoformat(), "reason": "Không có người nhận"}
    ).encode()
    signature = postal.sign_report(report, DEV_POSTAL_HMAC_KEY.encode(), int(now.timestamp()))
    answer = requests.post(
        f"{notify}/api/v1/letters/{receipt['letter_id']}/postal-events",
        data=report,
        headers={"Content-Type": "application/json", postal.SIGNATURE_HEADER: signature},
        timeout=5,
    )
    assert answer.status_code == 200 and answer.json()["status"] == "returned", answer.text
    detail = f"{console}/api/v1/dossiers/{code}"
    assert wait_until(
        lambda: bool(requests.get(detail, headers=counter, timeout=5).json().get("returned_letters")),
        timeout=60,
    ), "processing did not flag the returned letter"

    context, page = new_page(browser)
    try:
        sign_in(page, console, f"tn.{UNIT}")
        page.goto(f"{console}/console/ho-so/{code}")
        flagged = page.inner_text("#thu-bi-tra-lai")
        assert "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in flagged and "Không có người nhận" in flagged
        page.screenshot(path=str(artifacts / "journey-returned-letter.png"), full_page=True)
    finally:
        context.close()
