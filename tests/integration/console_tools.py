"""Signing in to the console in tests, through its real pages (CSRF token, session cookie)."""

from __future__ import annotations

import re
from typing import Any

from processing.identity import signin

PASSWORD = "mat-khau-thu-nghiem-2019"


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, f"no {name} in the page"
    return match.group(1)


def form_token(client: Any, path: str = "/console/dang-nhap") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return hidden(page.get_data(as_text=True), "csrf_token")


def with_password(db: Any, user_id: str, password: str = PASSWORD) -> str:
    signin.set_password(db, user_id, password, must_change=False)
    return password


def sign_in(client: Any, user_id: str, password: str = PASSWORD) -> Any:
    """POST the sign-in form as a browser would; returns the answer (302 to the console if signed in)."""
    return client.post(
        "/console/dang-nhap",
        data={"csrf_token": form_token(client), "user_id": user_id, "password": password, "next": ""},
    )
