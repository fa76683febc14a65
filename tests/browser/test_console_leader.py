"""The leader's statistics screen in a real browser: reached from the menu, the form passes axe,
a period that is not one is told beside its field, and the register (Mẫu 06) downloads as a
workbook the browser saves."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.browser.checks import serious_violations
from tests.browser.console_pages import sign_in

pytestmark = pytest.mark.browser


def test_the_leader_reads_the_statistics_and_downloads_the_register(browser, console, axe_source, artifacts):
    context = browser.new_context(bypass_csp=True, locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    try:
        sign_in(page, console.url, "ld.09496")
        page.get_by_role("link", name="Thống kê").click()
        assert page.locator("h1").inner_text() == "Thống kê tình hình giải quyết hồ sơ"
        assert serious_violations(page, axe_source, artifacts, "console-leader") == []
        page.screenshot(path=str(artifacts / "console-leader.png"), full_page=True)

        page.check("#ky-thang")
        page.fill("#thang", "2026-13")
        page.get_by_role("button", name="Xem thống kê").click()
        assert page.locator("#thang-loi").inner_text().strip(), "the bad month is told beside it"
        assert serious_violations(page, axe_source, artifacts, "console-leader-error") == []

        page.fill("#thang", "2026-12")
        page.get_by_role("button", name="Xem thống kê").click()
        with page.expect_download() as download:
            page.get_by_role("link", name="Tải về bảng tính Excel (XLSX)").click()
        saved = download.value
        assert saved.suggested_filename.endswith(".xlsx")
        header = next(
            load_workbook(io.BytesIO(Path(saved.path()).read_bytes())).active.iter_rows(values_only=True)
        )
        assert header[1] == "Mã hồ sơ"
    finally:
        context.close()
