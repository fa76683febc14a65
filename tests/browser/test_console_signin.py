"""Signing in to the staff console in a real browser: the demo receptionist reaches the console,
the page passes axe, and signing out ends the session; five wrong passwords lock an account."""

from __future__ import annotations

import pytest

from tests.browser.checks import serious_violations
from tests.browser.console_pages import sign_in, sign_out

pytestmark = pytest.mark.browser


def test_an_officer_signs_in_and_out(browser, console, axe_source, artifacts):
    # The page's policy forbids inline scripts, axe's included: this context bypasses it.
    context = browser.new_context(bypass_csp=True, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(f"{console.url}/console/")
        assert "/console/dang-nhap" in page.url, "no session: the sign-in page"
        assert serious_violations(page, axe_source, artifacts, "console-signin") == []
        sign_in(page, console.url, "tn.09496", "sai-mat-khau-day")
        assert "không đúng" in page.inner_text("#loi-dang-nhap")
        sign_in(page, console.url, "tn.09496")
        assert page.url.endswith("/console/")
        assert "Xin chào" in page.inner_text("h1")
        assert serious_violations(page, axe_source, artifacts, "console-home") == []
        page.screenshot(path=str(artifacts / "console-home.png"), full_page=True)
        sign_out(page)
        assert "/console/dang-nhap" in page.url
        page.goto(f"{console.url}/console/")
        assert "/console/dang-nhap" in page.url, "signed out: the session is gone"
    finally:
        context.close()


def test_five_wrong_passwords_lock_the_account(browser, console, artifacts):
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    try:
        for attempt in range(4):
            sign_in(page, console.url, "cv2.09496", f"sai-mat-khau-{attempt}")
            assert "không đúng" in page.inner_text("#loi-dang-nhap"), attempt
        sign_in(page, console.url, "cv2.09496", "sai-mat-khau-5")
        assert "tạm khoá" in page.inner_text("#loi-dang-nhap")
        sign_in(page, console.url, "cv2.09496")
        assert "tạm khoá" in page.inner_text("#loi-dang-nhap"), "locked: even the right password"
        assert "/console/dang-nhap" in page.url
        page.screenshot(path=str(artifacts / "console-locked.png"), full_page=True)
    finally:
        context.close()
