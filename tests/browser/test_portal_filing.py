"""Filing a dossier through the portal's form to intake's real API, then looking it up, in a real
browser: the receipt's code, the lookup's status, one answer for a wrong secret and an unknown
code; axe-core and a 360 px phone on the new pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventkit.envelope import decode
from eventkit.outbox import OUTBOX
from tests.browser.checks import serious_violations, shows_on_a_phone
from tests.factories import pdf_bytes
from tests.integration.portal_tools import Deliverer

pytestmark = pytest.mark.browser

PROCEDURE = "1.004884"  # Thủ tục đăng ký lại khai sinh: 14 receiving communes, TP01 mandatory
FORM = f"/thu-tuc/{PROCEDURE}/nop-ho-so"
FIELDS = {
    "#applicant-full_name": "Nguyễn Thị Hoa",
    "#applicant-id_number": "027190001234",
    "#applicant-date_of_birth": "1990-05-12",
    "#applicant-phone": "0912 345 678",
    "#applicant-email": "hoa@example.vn",
    "#form-person_full_name": "Nguyễn Văn Bình",
    "#form-person_birth_date": "2015-03-01",
    "#form-original_registration_place": "UBND thị trấn Thứa",
}


@pytest.fixture(scope="module")
def pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("files") / "to-khai.pdf"
    path.write_bytes(pdf_bytes(2000))
    return path


def fill_and_send(page: Any, pdf: Path) -> None:
    for selector, value in FIELDS.items():
        page.fill(selector, value)
    page.select_option("#unit", "09496")
    page.set_input_files("#documents-TP01", str(pdf))
    page.check("#delivery-method-counter")
    page.get_by_role("button", name="Nộp hồ sơ").click()
    page.wait_for_selector("#ma-ho-so")


@pytest.fixture(scope="module")
def filed(browser, filing_portal, intake_api, pdf, artifacts) -> dict[str, str]:
    """A dossier filed through the form; its code and secret as the receipt shows them."""
    context = browser.new_context(locale="vi-VN")
    try:
        page = context.new_page()
        page.goto(filing_portal.url + FORM)
        page.screenshot(path=str(artifacts / "filing-form.png"), full_page=True)
        fill_and_send(page, pdf)
        assert page.locator("h1").inner_text() == "Đã nộp hồ sơ thành công"
        assert page.locator("img.qr").evaluate("img => img.complete && img.naturalWidth > 0")
        page.screenshot(path=str(artifacts / "filing-receipt.png"), full_page=True)
        code = page.locator("#ma-ho-so").inner_text()
        secret = page.locator("#ma-tra-cuu").inner_text()
    finally:
        context.close()
    # The portal's read model learns of the dossier from intake's event, as its worker would.
    stored = intake_api.db.dossiers.find_one({"_id": code})
    assert stored is not None and stored["channel"] == "online"
    Deliverer(filing_portal.db)(*(decode(entry["value"].encode()) for entry in stored[OUTBOX]))
    return {"code": code, "secret": secret}


@pytest.fixture
def page(browser) -> Iterator[Any]:
    context = browser.new_context(locale="vi-VN")
    try:
        yield context.new_page()
    finally:
        context.close()


def look_up(page: Any, url: str, code: str, secret: str) -> str:
    page.goto(f"{url}/tra-cuu")
    page.fill("#code", code)
    page.fill("#secret", secret)
    page.get_by_role("button", name="Tra cứu", exact=True).click()
    page.wait_for_load_state()
    return str(page.locator("main").inner_text())


def test_a_filing_with_an_upload_shows_a_code(filed, intake_api):
    assert filed["code"].startswith("000.21.26.H06-")
    assert len(filed["secret"]) >= 12
    stored = intake_api.db.dossiers.find_one({"_id": filed["code"]})
    assert [d["type"] for d in stored["documents"]] == ["TP01"], "the file went with the filing"


def test_the_code_and_secret_look_it_up(filed, filing_portal, page, artifacts):
    shown = look_up(page, filing_portal.url, filed["code"], filed["secret"])
    assert page.locator("#tinh-trang").inner_text() == "Đã nộp, chờ tiếp nhận"
    assert filed["code"] in shown and "Nguyễn Thị Hoa" not in shown
    assert filed["secret"] not in page.url
    page.screenshot(path=str(artifacts / "lookup-found.png"), full_page=True)


def test_a_wrong_secret_gets_the_answer_of_an_unknown_code(filed, filing_portal, page, artifacts):
    wrong = look_up(page, filing_portal.url, filed["code"], "AAAA-BBBB-CCCC")
    page.screenshot(path=str(artifacts / "lookup-not-found.png"), full_page=True)
    unknown = look_up(page, filing_portal.url, "000.21.26.H06-991231-9999", filed["secret"])
    assert wrong == unknown
    assert "Không tìm thấy hồ sơ" in wrong


def test_the_home_page_quick_lookup_posts_to_the_lookup(filed, filing_portal, page):
    page.goto(filing_portal.url)
    page.fill("#lookup-code", filed["code"])
    page.fill("#lookup-secret", filed["secret"])
    page.locator("form[action='/tra-cuu'] button").click()
    page.wait_for_selector("#tinh-trang")
    assert page.url.endswith("/tra-cuu")


NEW_PAGES = {"filing-form": FORM, "lookup": "/tra-cuu"}


@pytest.mark.parametrize("name", list(NEW_PAGES))
def test_new_pages_fit_a_360_pixel_phone(filing_portal, browser, artifacts, name):
    shows_on_a_phone(browser, filing_portal.url + NEW_PAGES[name], artifacts, name)


def test_axe_finds_no_serious_or_critical_violation_on_the_new_pages(
    filed, filing_portal, browser, axe_source, artifacts, pdf
):
    # The page's policy forbids inline scripts, axe's included: this context alone bypasses it.
    context = browser.new_context(bypass_csp=True, locale="vi-VN")
    try:
        page = context.new_page()
        found: dict[str, list[Any]] = {}
        page.goto(filing_portal.url + FORM)
        found["filing-form"] = serious_violations(page, axe_source, artifacts, "filing-form")
        # The form sent with nothing filled: every error shown beside its field.
        page.get_by_role("button", name="Nộp hồ sơ").click()
        page.wait_for_selector(".field__error")
        page.screenshot(path=str(artifacts / "filing-errors.png"), full_page=True)
        found["filing-errors"] = serious_violations(page, axe_source, artifacts, "filing-errors")
        page.goto(filing_portal.url + FORM)
        fill_and_send(page, pdf)
        found["filing-receipt"] = serious_violations(page, axe_source, artifacts, "filing-receipt")
        page.goto(filing_portal.url + "/tra-cuu")
        found["lookup"] = serious_violations(page, axe_source, artifacts, "lookup")
        look_up(page, filing_portal.url, filed["code"], filed["secret"])
        found["lookup-found"] = serious_violations(page, axe_source, artifacts, "lookup-found")
        assert found == dict.fromkeys(found, [])
    finally:
        context.close()
