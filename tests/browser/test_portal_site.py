"""The portal's public site in a real browser: filters, detail, phone width, accessibility, CSP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.checks import serious_violations, shows_on_a_phone

pytestmark = pytest.mark.browser

BIRTH = "1.001193"
PAGES = {"home": "/", "procedures": "/thu-tuc", "procedure": f"/thu-tuc/{BIRTH}"}


@pytest.fixture
def page(browser) -> Iterator[Any]:
    context = browser.new_context(locale="vi-VN")
    try:
        yield context.new_page()
    finally:
        context.close()


def test_list_filters_and_opens_a_detail_page(portal, page, artifacts):
    page.goto(f"{portal.url}/thu-tuc")
    assert page.locator("#ket-qua").inner_text() == "Tìm thấy 25 thủ tục, trang 1/2."
    page.select_option("#field", "Hộ tịch")
    page.select_option("#unit", "09496")
    page.select_option("#online_mode", "partial_online")
    page.get_by_role("button", name="Lọc").click()
    page.wait_for_url("**/thu-tuc?**")
    assert "field=H%E1%BB%99+t%E1%BB%8Bch" in page.url and "unit=09496" in page.url
    status = page.locator("#ket-qua").inner_text()
    assert status.startswith("Tìm thấy ") and "25" not in status
    assert page.locator("#field").input_value() == "Hộ tịch", "the filters stay chosen"
    page.screenshot(path=str(artifacts / "procedures-filtered.png"), full_page=True)

    page.get_by_role("link", name="Thủ tục đăng ký khai sinh").click()
    page.wait_for_url(f"**/thu-tuc/{BIRTH}")
    assert page.locator("h1").inner_text() == "Thủ tục đăng ký khai sinh"
    assert page.get_by_text("Giấy chứng sinh", exact=False).count() >= 1
    online = page.get_by_role("link", name="Nộp hồ sơ trực tuyến")
    assert online.get_attribute("href") == f"/thu-tuc/{BIRTH}/nop-ho-so"


def test_search_from_the_home_page_without_diacritics(portal, page):
    page.goto(portal.url)
    page.fill("#q", "dang ky khai sinh")
    page.get_by_role("button", name="Tìm kiếm").click()
    page.wait_for_url("**/thu-tuc?q=**")
    assert page.get_by_role("link", name="Thủ tục đăng ký khai sinh").count() == 1


@pytest.mark.parametrize("name", list(PAGES))
def test_pages_fit_a_360_pixel_phone(portal, browser, artifacts, name):
    shows_on_a_phone(browser, portal.url + PAGES[name], artifacts, name)


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_serious_or_critical_violation(portal, browser, axe_source, artifacts, name):
    # The page's policy forbids inline scripts, axe's included: this context alone bypasses it.
    context = browser.new_context(bypass_csp=True, locale="vi-VN")
    try:
        page = context.new_page()
        page.goto(portal.url + PAGES[name])
        serious = serious_violations(page, axe_source, artifacts, name)
        assert serious == []
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    finally:
        context.close()


def test_policy_is_sent_and_nothing_on_the_pages_breaks_it(portal, page):
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    for path in [*PAGES.values(), "/khong-co-trang-nay"]:
        # Each page's fonts loaded before the next: a navigation aborts the requests still going.
        response = page.goto(portal.url + path, wait_until="networkidle")
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy
        assert response.headers.get("x-content-type-options") == "nosniff"
    # The stylesheet and the webfont came from the portal itself and applied.
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.startswith('"Be Vietnam Pro"')
    assert page.evaluate("document.fonts.check('16px \"Be Vietnam Pro\"')")
    violations = [m for m in messages if "Content Security Policy" in m or "Refused to" in m]
    assert violations == [] and failed == []
