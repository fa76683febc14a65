"""Intake's public API as a filing page calls it (the portal's online filing, the console's counter
filing): the one HTTP call between services. Timeouts are short: a citizen waits on them.

The caller adds its own headers: the portal the citizen's address as X-Forwarded-For (intake, run
with PROXY_HOPS=1 behind it, limits uploads per citizen), the console the officer's short-lived
staff token. Each call carries the caller's correlation id (`correlation`, read per call), so a
filing keeps the id of the page request that made it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

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
    retry_after: str | None = None


class IntakeClient:
    def __init__(
        self,
        base_url: str,
        headers: dict[str, str] | None = None,
        session: requests.Session | None = None,
        correlation: Callable[[], str | None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Accept": "application/json", **(headers or {})}
        self.session = session or requests.Session()
        self.correlation = correlation

    def _post(self, path: str, timeout: tuple[float, float], headers: dict[str, str], **kwargs: Any) -> Any:
        traced = self.correlation() if self.correlation else None
        call = {**self.headers, **({"X-Correlation-ID": traced} if traced else {}), **headers}
        try:
            response = self.session.post(f"{self.base_url}{path}", headers=call, timeout=timeout, **kwargs)
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
                retry_after=response.headers.get("Retry-After"),
            )
        return body

    def upload(
        self, data: bytes, filename: str, content_type: str, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """POST /api/v1/uploads: the stored upload (`id`, `size`, `content_type`, `sha256`)."""
        files = {"file": (filename, data, content_type)}
        answer: dict[str, Any] = self._post("/api/v1/uploads", UPLOAD_TIMEOUT, headers or {}, files=files)
        return answer

    def file(
        self, body: dict[str, Any], idempotency_key: str, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """POST /api/v1/dossiers: `code`, `lookup_secret`, `status`, `submitted_at`."""
        call = {"Idempotency-Key": idempotency_key, **(headers or {})}
        answer: dict[str, Any] = self._post("/api/v1/dossiers", TIMEOUT, call, json=body)
        return answer

    def supplement(
        self, code: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """POST /api/v1/dossiers/<code>/supplements: the dossier's `status` after the supplement."""
        path = f"/api/v1/dossiers/{quote(code, safe='')}/supplements"
        answer: dict[str, Any] = self._post(path, TIMEOUT, headers or {}, json=body)
        return answer
