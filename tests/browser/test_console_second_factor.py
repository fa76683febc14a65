"""The second factor in a real browser: an officer turns it on from the page header (QR code, key,
code typed from the keyboard), the next sign-in asks for the code, and both pages pass axe at
laptop and tablet width."""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.browser.checks import serious_violations
from tests.browser.console_pages import sign_in, sign_out

pytestmark = pytest.mark.browser
OFFICER = "cv2.09496"


def test_an_officer_turns_on_the_second_factor_and_is_asked_for_it(browser, console, axe_source, artifacts):
    context = browser.new_context(bypass_csp=True, locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, console.url, OFFICER)
        assert page.url.endswith("/console/")
        page.click("text=Xác thực hai lớp")
        assert page.url.endswith("/console/xac-thuc-hai-lop")
        page.click("button:has-text('Bật xác thực hai lớp')")
        key = page.inner_text("#khoa-xac-thuc").strip()
        qr = "img[alt='Mã QR để đăng ký ứng dụng xác thực']"
        assert page.eval_on_selector(qr, "img => img.complete && img.naturalWidth > 0"), (
            "the QR code is drawn"
        )
        assert serious_violations(page, axe_source, artifacts, "console-second-factor-enrol") == []
        page.set_viewport_size({"width": 768, "height": 1024})
        page.screenshot(path=str(artifacts / "console-second-factor-tablet.png"), full_page=True)
        page.focus("#code")
        page.keyboard.type(pyotp.TOTP(key).now())
        page.keyboard.press("Enter")
        page.wait_for_url("**/console/xac-thuc-hai-lop?xong=bat")
        assert "Đã bật" in page.inner_text("main")

        sign_out(page)
        sign_in(page, console.url, OFFICER)
        assert page.locator("#code").is_visible(), "the password alone no longer signs in"
        assert serious_violations(page, axe_source, artifacts, "console-second-factor-code") == []
        page.fill("#code", pyotp.TOTP(key).at(time.time() + 30))
        page.click("button[type=submit]")
        page.wait_for_url("**/console/")
        assert "Xin chào" in page.inner_text("h1")
    finally:
        context.close()
