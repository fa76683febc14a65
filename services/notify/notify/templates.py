"""Email templates: Jinja2 files, one folder per template and version.

Layout: `templates/email/<template>/<version>/{subject.txt, body.txt, body.html}`; `_base/<version>`
holds the frame the bodies extend. A notification keeps the version it was made with, so a new
version changes only later notifications. Undefined variables are errors (StrictUndefined), and the
HTML is autoescaped; the plain-text part is not escaped (it is not markup). A template that fails
raises `RenderError` with the reason, which the sender records as a technical failure.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2

TEMPLATES_DIR = Path(__file__).parent / "templates"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DELIVERY_TEXT = {
    "counter": "nhận trực tiếp tại Bộ phận một cửa",
    "post": "gửi qua dịch vụ bưu chính công ích đến địa chỉ đã đăng ký",
    "online": "nhận bản điện tử trên Cổng dịch vụ công",
}


class RenderError(Exception):
    """A template could not be rendered: its message says which and why."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def datetime_vn(value: Any) -> str:
    """`2023-11-03T09:32:00+07:00` → `09:32 ngày 03/11/2023` (Vietnam's time)."""
    if not value:
        return ""
    moment = (
        value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    if moment.tzinfo is not None:
        moment = moment.astimezone(TZ)
    return moment.strftime("%H:%M ngày %d/%m/%Y")


def delivery_text(method: Any) -> str:
    return DELIVERY_TEXT.get(str(method or ""), DELIVERY_TEXT["counter"])


def _environment(root: Path, html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root / "email")),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["datetime_vn"] = datetime_vn
    env.filters["delivery_text"] = delivery_text
    return env


class Renderer:
    def __init__(self, portal_url: str, root: Path | str | None = None) -> None:
        self.root = Path(root) if root else TEMPLATES_DIR
        self.portal_url = portal_url.rstrip("/")
        self._text = _environment(self.root, html=False)
        self._html = _environment(self.root, html=True)

    def latest_version(self, template: str) -> str:
        """The newest version of `template` (the highest numbered folder)."""
        folder = self.root / "email" / template
        versions = (
            [p.name for p in folder.iterdir() if p.is_dir() and p.name.isdigit()] if folder.is_dir() else []
        )
        if not versions:
            raise RenderError(f"template {template!r} has no version")
        return max(versions, key=int)

    def lookup_url(self, code: str) -> str:
        return f"{self.portal_url}/tra-cuu-ho-so?{urlencode({'ma': code})}"

    def render(
        self, template: str, version: str, personalisation: dict[str, Any], recipient_kind: str
    ) -> Rendered:
        context = {
            **personalisation,
            "recipient_kind": recipient_kind,
            "portal_url": self.portal_url,
            "lookup_url": self.lookup_url(str(personalisation.get("code") or "")),
        }
        base = f"{template}/{version}"
        try:
            subject = self._text.get_template(f"{base}/subject.txt").render(context)
            text = self._text.get_template(f"{base}/body.txt").render(context)
            html = self._html.get_template(f"{base}/body.html").render(context)
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"template file missing: {exc.name}") from exc
        except jinja2.TemplateError as exc:
            raise RenderError(f"{base}: {type(exc).__name__}: {exc.message or exc}") from exc
        except (TypeError, ValueError) as exc:  # a filter given a value it cannot read
            raise RenderError(f"{base}: {type(exc).__name__}: {exc}") from exc
        # One line, NFC: a header must not be folded by a stray newline of the template.
        subject = " ".join(subject.split())
        return Rendered(
            unicodedata.normalize("NFC", subject),
            unicodedata.normalize("NFC", text.strip() + "\n"),
            unicodedata.normalize("NFC", html),
        )
