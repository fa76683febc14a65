"""Counter filing in a real browser: the demo receptionist signs in, chooses a procedure, fills its
form with a scanned document and files it to intake's real API; the code and lookup secret are
shown; axe finds nothing serious on the form or the result; the form fits a 768 px tablet."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack.infra import free_ports
from tests.browser.checks import page_width, serious_violations
from tests.browser.console_pages import sign_in
from tests.browser.servers import gunicorn, prepare_processing, scratch_database, service_env
from tests.factories import fill_catalogue_projection, pdf_bytes

pytestmark = pytest.mark.browser

PROCEDURE = "1.004884"  # Thủ tục đăng ký lại khai sinh, received at the commune 09496
FIELDS = {
    "#applicant-full_name": "Nguyễn Thị Hoa",
    "#applicant-id_number": "027190001234",
    "#applicant-date_of_birth": "1990-05-12",
    "#applicant-phone": "0912 345 678",
    "#form-person_full_name": "Nguyễn Văn Bình",
    "#form-person_birth_date": "2015-03-01",
    "#form-original_registration_place": "UBND thị trấn Thứa",
}
TABLET = {"width": 768, "height": 1024}


@dataclass
class CounterDesk:
    url: str  # the console (processing under gunicorn)
    intake_db: Any


@pytest.fixture(scope="module")
def desk(infra, jwt_keys, signing_certs, tmp_path_factory) -> Iterator[CounterDesk]:
    """Processing's console sending counter filings to intake, and intake trusting processing's
    key set (JWT_JWKS_URL), both under gunicorn on databases of their own."""
    from intake import store as intake_store

    def prepare_intake(db: Any) -> None:
        intake_store.ensure_indexes(db)
        fill_catalogue_projection(db)

    folder = tmp_path_factory.mktemp("counter-desk")
    console_port, intake_port = free_ports(2)
    console_url, intake_url = f"http://127.0.0.1:{console_port}", f"http://127.0.0.1:{intake_port}"
    with (
        scratch_database(infra, "test_counter_console", prepare_processing) as db,
        scratch_database(infra, "test_counter_desk_intake", prepare_intake) as intake_db,
    ):
        console_env = service_env(
            infra,
            jwt_keys,
            db.name,
            BLOB_URL=(folder / "blobs").as_uri(),
            SIGNING_CERTS_DIR=str(signing_certs),
            STAFF_KEYS_SECRET="test secret of the staff token keys",
            INTAKE_URL=intake_url,
            NOTIFY_URL="http://127.0.0.1:9",
        )
        intake_env = service_env(
            infra,
            jwt_keys,
            intake_db.name,
            BLOB_URL=(folder / "intake-blobs").as_uri(),
            JWT_JWKS_URL=f"{console_url}/.well-known/jwks.json",
        )
        with (
            gunicorn("processing.wsgi:app", console_env, folder / "console.log", port=console_port),
            gunicorn("intake.wsgi:app", intake_env, folder / "intake.log", port=intake_port),
        ):
            yield CounterDesk(url=console_url, intake_db=intake_db)


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scans") / "to-khai.pdf"
    path.write_bytes(pdf_bytes(4000))
    return path


def test_the_receptionist_files_a_counter_dossier_with_a_scanned_document(
    browser, desk, scan, axe_source, artifacts
):
    context = browser.new_context(bypass_csp=True, locale="vi-VN")
    page = context.new_page()
    try:
        sign_in(page, desk.url, "tn.09496")
        page.get_by_role("link", name="Tiếp nhận tại quầy").click()
        assert page.locator("h1").inner_text() == "Tiếp nhận hồ sơ tại quầy"
        assert serious_violations(page, axe_source, artifacts, "console-counter-procedures") == []
        page.locator(f"a[href='/console/quay/{PROCEDURE}']").click()
        assert serious_violations(page, axe_source, artifacts, "console-counter-form") == []
        for selector, value in FIELDS.items():
            page.fill(selector, value)
        page.set_input_files("#documents-TP01", str(scan))
        page.check("#delivery-method-counter")
        page.get_by_role("button", name="Tiếp nhận hồ sơ").click()
        page.wait_for_selector("#ma-ho-so")

        code = page.locator("#ma-ho-so").inner_text()
        assert code.startswith("000.21.26.H06-")
        assert len(page.locator("#ma-tra-cuu").inner_text()) >= 12
        button = page.get_by_role("link", name="In giấy tiếp nhận và hẹn trả kết quả (Mẫu 01)")
        assert button.get_attribute("href") == f"/console/quay/ho-so/{code}/giay-tiep-nhan"
        assert serious_violations(page, axe_source, artifacts, "console-counter-filed") == []
        page.screenshot(path=str(artifacts / "console-counter.png"), full_page=True)
    finally:
        context.close()
    stored = desk.intake_db.dossiers.find_one({"_id": code})
    assert stored["channel"] == "counter" and stored["received_by"] == "tn.09496"
    assert [d["type"] for d in stored["documents"]] == ["TP01"]


def test_the_counter_form_fits_a_tablet(browser, desk, artifacts):
    context = browser.new_context(viewport=TABLET, locale="vi-VN")
    page = context.new_page()
    try:
        sign_in(page, desk.url, "tn.09496")
        page.goto(f"{desk.url}/console/quay/{PROCEDURE}")
        assert page_width(page) <= TABLET["width"]
        page.screenshot(path=str(artifacts / "console-counter-768.png"), full_page=True)
    finally:
        context.close()
