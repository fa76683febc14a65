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
