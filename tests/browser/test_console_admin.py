"""The administration screens in a real browser, as the demo administrator `quantri`: an account
is created and given a temporary password, which its officer must change at the first sign-in; a
holiday is added to a year's calendar; every screen passes axe and fits a tablet's width."""

from __future__ import annotations

from datetime import date

import pytest

from processing import store
from tests.browser.checks import page_width, serious_violations
from tests.browser.console_pages import sign_in, sign_out

pytestmark = pytest.mark.browser

NEW_OFFICER = "cv.thunghiem.09496"
TEMPORARY = "tam-thoi-09496-moi"
TABLET = {"width": 768, "height": 1024}


def checked(page, axe_source, artifacts, name: str) -> None:
    assert serious_violations(page, axe_source, artifacts, name) == [], name
    assert page_width(page) <= TABLET["width"], f"{name} scrolls sideways at tablet width"


def test_an_administrator_keeps_accounts_and_the_calendar(browser, console, axe_source, artifacts):
    context = browser.new_context(bypass_csp=True, locale="vi-VN", viewport=TABLET)
    page = context.new_page()
    year = date.today().year
    try:
        sign_in(page, console.url, "quantri")
        page.click("nav >> text=Quản trị")
        assert page.inner_text("h1") == "Quản trị hệ thống"
        checked(page, axe_source, artifacts, "console-admin")

        page.click("text=Tài khoản cán bộ")
        assert "tn.09496" in page.inner_text("table")
        checked(page, axe_source, artifacts, "console-admin-accounts")
        page.click("text=Tạo tài khoản")
        page.fill("#user_id", NEW_OFFICER)
        page.fill("#name", "Nguyễn Thị Thử Nghiệm")
        page.check("label:has-text('Chuyên viên xử lý')")
        assert page.is_checked("#units-0"), "the unit listed is ticked"
        page.fill("#reason", "Tuyển dụng mới")
        checked(page, axe_source, artifacts, "console-admin-account-new")
        page.click("button:has-text('Tạo tài khoản')")
        assert "Đã lưu tài khoản" in page.inner_text("[role=status]")

        page.fill("#password", TEMPORARY)
        page.fill("#password_reason", "Cấp tài khoản mới")
        page.click("button:has-text('Cấp mật khẩu tạm')")
        assert "Đã cấp mật khẩu tạm" in page.inner_text("[role=status]")
        assert "Cấp mật khẩu tạm" in page.inner_text("table")
        checked(page, axe_source, artifacts, "console-admin-account")

        page.goto(f"{console.url}/console/quan-tri/lich/{year}")
        page.click("button:has-text('Thêm ngày nghỉ')")
        rows = page.locator("input[type=date][name^=days_off]")
        new_row = rows.count() - 1
        page.fill(f"#days_off-{new_row}-date", f"{year}-12-31")
        page.fill(f"#days_off-{new_row}-name", "Nghỉ cuối năm")
        page.select_option(f"#days_off-{new_row}-kind", "compensatory")
        page.fill("#reason", "Quyết định của UBND tỉnh")
        page.click("button:has-text('Lưu lịch') >> nth=0")
        assert "Đã lưu lịch" in page.inner_text("[role=status]")
        assert "Quyết định của UBND tỉnh" in page.inner_text("table")
        checked(page, axe_source, artifacts, "console-admin-calendar")
        page.screenshot(path=str(artifacts / "console-admin.png"), full_page=True)
        stored = store.get_calendar_year(console.db, year)
        assert any(d["name"] == "Nghỉ cuối năm" and d["kind"] == "compensatory" for d in stored["days_off"])

        for path, name in (
            ("/console/quan-tri/don-vi", "units"),
            ("/console/quan-tri/don-vi/09496", "unit"),
            ("/console/quan-tri/thu-tuc", "procedures"),
            ("/console/quan-tri/thu-tuc/1.001193", "procedure"),
            ("/console/quan-tri/thu-tuc/1.001193/phien-ban", "procedure-versions"),
            ("/console/quan-tri/dang-nhap", "signin-rules"),
        ):
            page.goto(f"{console.url}{path}")
            checked(page, axe_source, artifacts, f"console-admin-{name}")
        sign_out(page)

        # The new officer signs in with the temporary password and must change it first.
        sign_in(page, console.url, NEW_OFFICER, TEMPORARY)
        assert page.url.endswith("/console/doi-mat-khau")
        page.goto(f"{console.url}/console/")
        assert page.url.endswith("/console/doi-mat-khau"), "no other page before the change"
        page.fill("#current", TEMPORARY)
        page.fill("#new", "mat-khau-rieng-cua-toi")
        page.fill("#again", "mat-khau-rieng-cua-toi")
        page.click("button:has-text('Đổi mật khẩu')")
        assert page.url.endswith("/console/") and "Nguyễn Thị Thử Nghiệm" in page.inner_text("h1")
    finally:
        context.close()
