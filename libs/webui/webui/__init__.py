"""The look and the safety rules that the portal and the staff console share.

`init_webui(app, ...)` registers the base templates (`webui/layout.html`, `webui/error.html`), the
stylesheet and the Be Vietnam Pro webfont (served from its OFL package, no CDN), and, for the
blueprints that render pages: the security headers (a Content-Security-Policy without
`unsafe-inline`), CSRF checks on every unsafe method, `Cache-Control` with an ETag answering a
conditional GET with 304, and Vietnamese HTML error pages. The JSON API beside them keeps its own
errors and headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fontpkg_be_vietnam_pro
from flask import Blueprint, Flask, Response, abort, g, render_template, request, send_from_directory
from werkzeug.exceptions import HTTPException

from webui import csrf
from webui.security import CONTENT_SECURITY_POLICY, page_headers

__all__ = ["CONTENT_SECURITY_POLICY", "NavItem", "PageError", "Site", "csrf", "init_webui"]

FONT_DIR = Path(fontpkg_be_vietnam_pro.__file__).parent / "files"
FONTS = ("BeVietnamPro-Regular.ttf", "BeVietnamPro-Bold.ttf")
# Paths answered by the service's own JSON machinery, never by an HTML page.
JSON_PREFIXES = ("/api/", "/.well-known/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs")

ERROR_TITLES = {
    400: "Yêu cầu không hợp lệ",
    403: "Không có quyền truy cập",
    404: "Không tìm thấy trang",
    405: "Thao tác không được hỗ trợ",
    413: "Dữ liệu gửi lên quá lớn",
    500: "Lỗi hệ thống",
    503: "Dịch vụ tạm thời gián đoạn",
}
ERROR_MESSAGES = {
    400: "Yêu cầu gửi lên không hợp lệ. Vui lòng quay lại và thử lại.",
    403: "Bạn không có quyền xem trang này.",
    404: "Trang bạn tìm không tồn tại hoặc đã được chuyển đi.",
    405: "Trang này không hỗ trợ thao tác vừa thực hiện.",
    413: "Tệp hoặc dữ liệu gửi lên vượt quá giới hạn cho phép.",
    500: "Hệ thống gặp sự cố. Vui lòng thử lại sau ít phút.",
    503: "Dịch vụ tạm thời không sẵn sàng. Vui lòng thử lại sau ít phút.",
}


class PageError(HTTPException):
    """An error whose page says what went wrong: `PageError(400, "Trang: phải là số")`."""

    def __init__(self, code: int, page_message: str) -> None:
        super().__init__(description=page_message)
        self.code = code
        self.page_message = page_message


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str


@dataclass
class Site:
    """What every page's header and footer show."""

    name: str
    home_url: str = "/"
    address: str | None = None
    hotline: str | None = None
    email: str | None = None
    nav: tuple[NavItem, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def init_webui(
    app: Flask,
    *,
    site: Callable[[], Site],
    page_blueprints: Iterable[str],
    secret_key: str | Callable[[], str],
    max_age: int = 60,
) -> None:
    """Serve the shared templates and assets and apply the page rules to `page_blueprints`."""
    pages = frozenset(page_blueprints)
    blp = Blueprint(
        "webui",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static/webui",
    )

    @blp.get("/static/webui/fonts/<name>")
    def font(name: str) -> Response:
        if name not in FONTS:
            abort(404)
        response = send_from_directory(FONT_DIR, name, max_age=86400 * 30)
        return response

    app.register_blueprint(blp)
    pages = pages | {"webui"}
    app.extensions["webui"] = {"secret_key": secret_key, "pages": pages}
    # A callable secret (read from the service's store) is asked once, on the first form.

    def is_page() -> bool:
        if request.blueprint is not None:
            return request.blueprint in pages
        return not request.path.startswith(JSON_PREFIXES)

    @app.context_processor
    def page_context() -> dict[str, Any]:
        if not is_page():
            return {}
        return {"site": site()}

    # A global, so that imported macros (`csrf_field`) see it too.
    app.jinja_env.globals["csrf_token"] = csrf.token_for_form

    @app.before_request
    def check_csrf() -> None:
        if request.blueprint in pages and request.method not in csrf.SAFE_METHODS:
            csrf.verify_request()

    @app.after_request
    def page_rules(response: Response) -> Response:
        if is_page() or g.get("webui_error_page"):
            page_headers(response, max_age=max_age)
            csrf.set_cookie_if_issued(response)
        return response

    _install_error_pages(app, is_page)


def _install_error_pages(app: Flask, is_page: Callable[[], bool]) -> None:
    """HTML errors in Vietnamese for pages; the service's JSON handlers stay for everything else.

    Each handler the service registered is wrapped: on a page, its status is kept (a store outage
    stays 503, a domain error its own code) and shown as a page instead of its JSON body.
    """

    def render_error(code: int, message: str | None = None) -> Any:
        g.webui_error_page = True
        try:
            return render_template(
                "webui/error.html",
                code=code,
                title=ERROR_TITLES.get(code, "Có lỗi xảy ra"),
                message=message or ERROR_MESSAGES.get(code, "Có lỗi xảy ra. Vui lòng thử lại."),
            ), code
        except Exception:  # the page itself failed (its header's data is unreachable)
            app.logger.exception("error page failed")
            return Response(ERROR_MESSAGES.get(code, ERROR_MESSAGES[500]), status=code, mimetype="text/plain")

    def status_of(answer: Any) -> int:
        if isinstance(answer, Response):
            return answer.status_code
        if isinstance(answer, tuple) and len(answer) > 1 and isinstance(answer[1], int):
            return answer[1]
        return 500

    def wrap(json_handler: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
        def handle(exc: Exception) -> Any:
            if not is_page():
                if json_handler is not None:
                    return json_handler(exc)
                raise exc
            if isinstance(exc, HTTPException):
                return render_error(exc.code or 500, getattr(exc, "page_message", None))
            answer = json_handler(exc) if json_handler is not None else None
            return render_error(status_of(answer) if answer is not None else 500)

        return handle

    registered = dict(app.error_handler_spec[None][None])
    for exc_class, json_handler in registered.items():
        app.register_error_handler(exc_class, wrap(json_handler))
    if HTTPException not in registered:
        # Flask would have answered an HTTP error with a handler of Exception, if there is one.
        app.register_error_handler(HTTPException, wrap(registered.get(Exception, lambda exc: exc)))
    if Exception not in registered:

        def unexpected(exc: Exception) -> Any:
            if isinstance(exc, HTTPException):
                return render_error(exc.code or 500) if is_page() else exc
            if not is_page():
                raise exc
            app.logger.exception("unhandled error on a page")
            return render_error(500)

        app.register_error_handler(Exception, unexpected)
