"""The statistics and signature-check pages in a real browser, against every service running as
real processes: a dossier filed at intake and accepted at processing shows on the portal's
statistics; a PDF signed by the development CA checks out, a changed one does not."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.infra import wait_until
from devstack.run import (
    api_url,
)
from devstack.tokens import issue_token
from eventkit.signing import load_unit_signer, sign_pdf
from portal.service.dossiers import TZ
from tests.browser.checks import PHONE, page_width, serious_violations
from tests.factories import UNIT, online_filing, pdf_bytes
from tests.running_services import running_services

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def running(infra, jwt_keys, signing_certs, tmp_path_factory) -> Iterator[dict[str, int]]:
    """Every service's API and worker as real processes (as `make run` starts them)."""
    with running_services(infra, jwt_keys[1], signing_certs, tmp_path_factory) as ports:
        yield ports


@pytest.fixture(scope="module")
def portal_url(running) -> str:
    """The portal, once its worker has the catalogue: the unit filter knows the town, by name."""
    url = api_url("portal", running)

    def knows_the_unit() -> bool:
        page = requests.get(f"{url}/thong-ke", params={"unit": UNIT}, timeout=5)
        return page.status_code == 200 and "Ủy ban nhân dân thị trấn Thứa." in page.text

    assert wait_until(knows_the_unit, timeout=120, interval=1), "the portal's catalogue did not arrive"
    return url


def file_and_accept(ports: dict[str, int], private_key: Path) -> str:
    """A dossier filed online at intake's API and accepted by the town's counter officer."""
    intake = api_url("intake", ports)
    pdf = {"file": ("to-khai.pdf", pdf_bytes())}
    upload = requests.post(f"{intake}/api/v1/uploads", files=pdf, timeout=10)
    assert upload.status_code == 201, upload.text
    filing = online_filing(upload.json()["id"])
    answers: list[requests.Response] = []

    def filed() -> bool:
        # Until intake's worker has the catalogue, the procedure is unknown (422).
        answers.append(requests.post(f"{intake}/api/v1/dossiers", json=filing, timeout=10))
        return answers[-1].status_code == 201

    assert wait_until(filed, timeout=90, interval=1), f"intake did not take the filing: {answers[-1].text}"
    code = str(answers[-1].json()["code"])
    token = issue_token(["receptionist"], [UNIT], user_id=f"tn.{UNIT}", private_key=private_key)
    officer = {"Authorization": f"Bearer {token}"}
    detail = f"{api_url('processing', ports)}/api/v1/dossiers/{code}"
    assert wait_until(
        lambda: requests.get(detail, headers=officer, timeout=5).status_code == 200, timeout=90, interval=0.5
    ), "processing did not take the filing in"
    accepted = requests.post(f"{detail}/actions/accept", json={}, headers=officer, timeout=10)
    assert accepted.status_code == 200, accepted.text
    return code


def check_axe(page: Any, axe_source: Path, artifacts: Path, name: str) -> None:
    assert serious_violations(page, axe_source, artifacts, name) == [], name


def test_statistics_show_the_dossier_once_processing_accepted_it(
    running, portal_url, jwt_keys, browser, artifacts
):
    now = datetime.now(TZ)
    url = f"{portal_url}/thong-ke?year={now.year}&month={now.month}&unit={UNIT}"
    context = browser.new_context(locale="vi-VN")
    try:
        page = context.new_page()
        page.goto(url)
        assert "Ủy ban nhân dân thị trấn Thứa" in page.locator("#pham-vi").inner_text()
        before = int(page.locator("#received-online").inner_text())

        file_and_accept(running, jwt_keys[0])

        def counted() -> bool:
            page.reload()  # revalidates: the page's ETag changes with its figures
            return int(page.locator("#received-online").inner_text()) == before + 1

        assert wait_until(counted, timeout=120, interval=1), "the accepted dossier is not counted"
        assert page.locator("#received").inner_text() != "0"
        assert page.locator("#online-share").inner_text().endswith("%")
        assert page.locator("svg.chart").count() == 2
        page.screenshot(path=str(artifacts / "statistics.png"), full_page=True)

        # The same figure reached the home page's headline for the year.
        page.goto(portal_url)
        assert int(page.locator("#headline-received").inner_text()) >= 1
    finally:
        context.close()


@pytest.fixture(scope="module")
def signed_pdf(signing_certs) -> bytes:
    # pyHanko signs with asyncio.run: on a thread of its own, away from Playwright's loop.
    signer = load_unit_signer(signing_certs, UNIT)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(
            sign_pdf, pdf_bytes(2048), signer, reason="Ký văn bản của đơn vị", location="Lương Tài, Bắc Ninh"
        ).result()


def check_file(page: Any, url: str, name: str, data: bytes, mime: str = "application/pdf") -> str:
    page.goto(f"{url}/kiem-tra-chu-ky")
    page.set_input_files("#file", files=[{"name": name, "mimeType": mime, "buffer": data}])
    page.get_by_role("button", name="Kiểm tra chữ ký").click()
    page.wait_for_selector("#ket-qua")
    return str(page.locator("#ket-qua").get_attribute("data-outcome"))


def test_the_signature_check_tells_valid_altered_and_not_a_pdf(portal_url, signed_pdf, browser, artifacts):
    context = browser.new_context(locale="vi-VN")
    try:
        page = context.new_page()
        assert check_file(page, portal_url, "ket-qua.pdf", signed_pdf) == "valid"
        assert page.locator("#thong-bao").inner_text().startswith("Hợp lệ.")
        assert page.locator("#don-vi-ky").inner_text() == "Ủy ban nhân dân thị trấn Thứa"
        page.screenshot(path=str(artifacts / "signature-check-valid.png"), full_page=True)

        position = signed_pdf.index(b"(MotCua)")
        altered = signed_pdf[:position] + b"(MotCub)" + signed_pdf[position + 8 :]
        assert check_file(page, portal_url, "ket-qua-sua.pdf", altered) == "altered"
        assert "đã bị thay đổi sau khi ký" in page.locator("#thong-bao").inner_text()
        assert page.locator("#don-vi-ky").count() == 0, "an altered file names no signer"

        assert check_file(page, portal_url, "anh.png", bytes(range(256)) * 8, "image/png") == "not_pdf"
        assert "không phải là tệp PDF" in page.locator("#thong-bao").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/thong-ke", "/kiem-tra-chu-ky"])
def test_both_pages_pass_axe_and_fit_a_360_pixel_phone(portal_url, browser, axe_source, artifacts, path):
    name = "statistics" if path == "/thong-ke" else "signature-check"
    # The page's policy forbids inline scripts, axe's included: this context alone bypasses it.
    context = browser.new_context(bypass_csp=True, locale="vi-VN")
    try:
        page = context.new_page()
        page.goto(portal_url + path)
        check_axe(page, axe_source, artifacts, name)
    finally:
        context.close()
    phone = browser.new_context(viewport=PHONE, locale="vi-VN", device_scale_factor=1)
    try:
        page = phone.new_page()
        messages: list[str] = []
        page.on("console", lambda message: messages.append(message.text))
        response = page.goto(portal_url + path)
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        width = page_width(page)
        assert width <= PHONE["width"], f"{path} scrolls sideways: {width}px"
        assert [m for m in messages if "Content Security Policy" in m or "Refused to" in m] == []
        page.screenshot(path=str(artifacts / f"{name}-360.png"), full_page=True)
    finally:
        phone.close()
