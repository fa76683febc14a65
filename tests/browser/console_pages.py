"""Driving the staff console in the browser: signing in as a demo officer."""

from __future__ import annotations

from typing import Any

from processing.service.staff import DEMO_PASSWORD


def sign_in(page: Any, console_url: str, user_id: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real form; the console's first page is shown after."""
    page.goto(f"{console_url}/console/dang-nhap")
    page.fill("#user_id", user_id)
    page.fill("#password", password)
    page.click("button[type=submit]")


def sign_out(page: Any) -> None:
    page.click("text=Đăng xuất")


def take(
    page: Any, action: str, fill: dict[str, str] | None = None, files: dict[str, Any] | None = None
) -> None:
    """Open the dossier page's form of `action`, fill it (and choose its files), and send it."""
    page.click(f"#thao-tac-{action} summary")
    for selector, value in (fill or {}).items():
        if page.locator(selector).evaluate("e => e.tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    for selector, path in (files or {}).items():
        page.set_input_files(selector, str(path))
    page.click(f"#thao-tac-{action} button[type=submit]")


def state_of(page: Any) -> str:
    """The dossier page's state, as it reads."""
    return str(page.inner_text("#trang-thai")).strip()
