"""Intake's public API as the counter filing page calls it, the officer's own short-lived staff
token on each request: the console as a client of intake, as the portal is (and a mobile app
would be). Timeouts are short: a citizen waits at the counter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

# (connect, read) seconds; an upload of the largest file takes longer to read back its answer.
TIMEOUT = (3.0, 10.0)
UPLOAD_TIMEOUT = (3.0, 30.0)


class IntakeUnavailable(Exception):
    """Intake did not answer, or answered with a server error: nothing was filed by this call."""


@dataclass
class IntakeRefused(Exception):
    """Intake refused the request (4xx): its status, message and field errors (`errors.json`)."""

    status: int
    message: str
    errors: dict[str, Any] = field(default_factory=dict)


class IntakeClient:
    def __init__(self, base_url: str, token: str, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.session = session or requests.Session()

    def _post(self, path: str, timeout: tuple[float, float], **kwargs: Any) -> dict[str, Any]:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        try:
            response = self.session.post(f"{self.base_url}{path}", headers=headers, timeout=timeout, **kwargs)
        except requests.RequestException as exc:
            raise IntakeUnavailable(type(exc).__name__) from None
        if response.status_code >= 500:
            raise IntakeUnavailable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if response.status_code >= 400:
            errors = body.get("errors")
            raise IntakeRefused(
                status=response.status_code,
                message=str(body.get("message") or ""),
                errors=dict(errors.get("json") or errors.get("files") or {})
                if isinstance(errors, dict)
                else {},
            )
        return body

    def upload(self, data: bytes, filename: str, content_type: str) -> dict[str, Any]:
        """POST /api/v1/uploads: the stored upload (`id`, `size`, `content_type`, `sha256`)."""
        return self._post("/api/v1/uploads", UPLOAD_TIMEOUT, files={"file": (filename, data, content_type)})

    def file(self, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """POST /api/v1/dossiers: `code`, `lookup_secret`, `status`, `submitted_at`."""
        headers = {"Idempotency-Key": idempotency_key}
        return self._post("/api/v1/dossiers", TIMEOUT, json=body, headers=headers)
