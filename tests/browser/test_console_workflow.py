"""A dossier worked through the staff console in a real browser: the receptionist accepts and
assigns an online dossier, the specialist proposes, the leader approves and issues the signed
result, the receptionist returns it; another unit's dossier stays out of sight; a second
officer's late action is told what happened; the queue and dossier pages pass axe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eventkit.topics import Groups
from processing import store
from processing.handlers import build_handlers
from tests.browser.checks import serious_violations
from tests.browser.console_pages import sign_in, state_of, take
from tests.factories import PROCEDURE, intake_event, new_code, pdf_bytes

pytestmark = pytest.mark.browser


def file_online(
    db: Any, unit: str = "09496", unit_id: str = "000.21.26.H06", name: str = "Nguyễn Thị Hoa"
) -> str:
    """Intake's `dossier.submitted` delivered through processing's own handler, as its worker would."""
    code = new_code(unit_id)
    event = intake_event(
        "submitted",
        code,
        1,
        procedure_code=PROCEDURE,
        procedure_version=store.get_reference(db, "procedures", PROCEDURE)["version"],
        unit=unit,
        channel="online",
        received_by=None,
        delivery={"method": "counter", "address": None},
        documents=[{"type": "TP01", "upload_id": "up-trinh-duyet", "sha256": "0" * 64}],
        applicant={"full_name": name, "id_number": "027190001234", "phone": "0912345678"},
        form={"person_full_name": "Nguyễn Văn Bình", "person_birth_date": "2015-03-01"},
        submitted_at=datetime.now(UTC) - timedelta(minutes=5),
        lookup_secret_hash="x",
    )
    handler = build_handlers(db)[Groups.PROCESSING_INTAKE_DOSSIERS][event["type"]]
    handler.handle(event, handler.schema.load(event["data"]))
    return code


def officer_page(browser: Any, console: Any, user_id: str) -> tuple[Any, Any]:
    # The page's policy forbids inline scripts, axe's included: the context bypasses it.
    context = browser.new_context(bypass_csp=True, locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, console.url, user_id)
    return context, page


def test_a_dossier_goes_through_the_console_from_receipt_to_return(
    browser, console, axe_source, artifacts, tmp_path
):
    code = file_online(console.db)
    foreign = file_online(console.db, unit="09499", unit_id="000.21.26.H09", name="Người Xã Khác")
    result_file = tmp_path / "ket-qua.pdf"
    result_file.write_bytes(pdf_bytes(4000))
    contexts = []
    try:
        context, counter = officer_page(browser, console, "tn.09496")
        contexts.append(context)
        assert counter.url.endswith("/console/"), "the receptionist lands on the work queue"
        counter.goto(f"{console.url}/console/ho-so")
        queue = counter.inner_text("#hang-doi-ho-so")
        assert code in queue and foreign not in queue and "Chờ tiếp nhận" in queue
        assert serious_violations(counter, axe_source, artifacts, "console-queue") == []
        counter.screenshot(path=str(artifacts / "console-queue.png"), full_page=True)

        counter.click(f"a:text-is('{code}')")
        assert "Nguyễn Thị Hoa" in counter.inner_text("main")
        link = counter.get_attribute("#giay-to a", "href")
        assert "/api/v1/uploads/up-trinh-duyet?token=" in link, "a signed link to the file at intake"
        assert serious_violations(counter, axe_source, artifacts, "console-dossier") == []
        counter.screenshot(path=str(artifacts / "console-dossier.png"), full_page=True)
        # By keyboard alone: open the form, write the note, send it.
        counter.focus("#thao-tac-accept summary")
        counter.keyboard.press("Enter")
        counter.keyboard.press("Tab")
        counter.keyboard.type("Đủ thành phần hồ sơ")
        counter.keyboard.press("Tab")
        counter.keyboard.press("Enter")
        counter.wait_for_selector("#da-thuc-hien")
        assert "Đủ thành phần hồ sơ" in counter.inner_text("#lich-su"), "the note typed by keyboard"
        assert "Đã thực hiện: Tiếp nhận hồ sơ." in counter.inner_text("#da-thuc-hien")
        assert state_of(counter) == "Đã tiếp nhận"

        # The leader opens the accepted dossier; the receptionist assigns it meanwhile.
        context, leader = officer_page(browser, console, "ld.09496")
        contexts.append(context)
        leader.goto(f"{console.url}/console/ho-so/{code}")
        take(counter, "assign", {"#assign-assignee": "cv1.09496"})
        assert state_of(counter) == "Đang xử lý"
        take(leader, "assign", {"#assign-assignee": "cv2.09496"})
        assert "Người khác vừa phân công xử lý hồ sơ này (tn.09496" in leader.inner_text("#xung-dot")
        assert state_of(leader) == "Đang xử lý", "the page shows the fresh dossier"
        assert store.get_dossier(console.db, code)["assignee"] == "cv1.09496"

        context, specialist = officer_page(browser, console, "cv1.09496")
        contexts.append(context)
        specialist.goto(f"{console.url}/console/ho-so?mine=1")
        specialist.click(f"a:text-is('{code}')")
        take(specialist, "propose", {"#propose-note": "Đủ điều kiện đăng ký lại khai sinh"})
        assert state_of(specialist) == "Chờ lãnh đạo duyệt"

        leader.goto(f"{console.url}/console/ho-so/{code}")
        take(leader, "approve")
        assert state_of(leader) == "Đã duyệt"
        leader.click("#thao-tac-issue_result summary")
        leader.set_input_files("#issue_result-upload_id", str(result_file))
        leader.click("#thao-tac-issue_result button[type=submit]")
        assert state_of(leader) == "Có kết quả, chờ trả", leader.inner_text("main")
        assert store.get_dossier(console.db, code)["result"]["signed"] is True

        counter.goto(f"{console.url}/console/ho-so/{code}")
        take(counter, "return_result", {"#return_result-method": "counter"})
        assert state_of(counter) == "Đã trả kết quả"
        assert "Trả kết quả" in counter.inner_text("#lich-su")

        counter.set_viewport_size({"width": 768, "height": 1024})  # a tablet
        for path in ("/console/ho-so", f"/console/ho-so/{code}"):
            counter.goto(f"{console.url}{path}")
            fits = counter.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert fits, f"{path} scrolls sideways on a tablet"

        answer = counter.goto(f"{console.url}/console/ho-so/{foreign}")
        assert answer.status == 403 and "Người Xã Khác" not in counter.content()
    finally:
        for context in contexts:
            context.close()
