"""The shared page rules on a small app: headers, caching, CSRF, error pages beside a JSON API."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint, Flask, jsonify, render_template_string, request

from webui import CONTENT_SECURITY_POLICY, NavItem, PageError, Site, csrf, init_webui

FORM = """{% extends "webui/layout.html" %}{% from "webui/macros.html" import csrf_field %}
{% block content %}<form method="post" action="/gui">{{ csrf_field() }}<button>Gửi</button></form>
{% endblock %}"""


@pytest.fixture
def app() -> Flask:
    app = Flask("test")
    pages = Blueprint("pages", __name__)

    @pages.get("/")
    def home() -> str:
        return render_template_string(
            '{% extends "webui/layout.html" %}{% block content %}Xin chào{% endblock %}'
        )

    @pages.get("/mau")
    def form() -> str:
        return render_template_string(FORM)

    @pages.post("/gui")
    def submit() -> str:
        return f"đã nhận {request.form.get('x', '')}"

    @pages.get("/hong")
    def broken() -> str:
        raise RuntimeError("boom")

    @pages.get("/kho-luu-tru")
    def store_down() -> str:
        raise ConnectionError("store unreachable")

    @pages.get("/sai")
    def bad() -> str:
        raise PageError(400, "Trang: phải là số.")

    api = Blueprint("api", __name__)

    @api.post("/api/v1/things")
    def things() -> object:
        return jsonify(ok=True)

    app.register_blueprint(pages)
    app.register_blueprint(api)

    @app.errorhandler(ConnectionError)
    def unavailable(_exc: Exception) -> object:
        return {"message": "json 503"}, 503

    @app.errorhandler(Exception)
    def json_error(exc: Exception) -> object:
        code = getattr(exc, "code", 500) or 500
        return jsonify(message="json"), code

    init_webui(
        app,
        site=lambda: Site(
            name="Cổng thông tin điện tử huyện Lương Tài",
            address="thị trấn Thứa",
            nav=(NavItem("Trang chủ", "pages.home"),),
        ),
        page_blueprints=["pages"],
        secret_key="khoa-thu",
    )
    return app


def test_page_carries_the_layout_and_security_headers(app: Flask) -> None:
    response = app.test_client().get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="vi">' in html and 'href="#noi-dung"' in html and 'id="noi-dung"' in html
    assert "Cổng thông tin điện tử huyện Lương Tài" in html and "Địa chỉ: thị trấn Thứa" in html
    assert "<script" not in html and "<style" not in html and " style=" not in html
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_public_page_is_cached_and_answers_a_conditional_get_with_304(app: Flask) -> None:
    client = app.test_client()
    first = client.get("/")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    again = client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get("/", headers={"If-None-Match": '"other"'}).status_code == 200


def test_stylesheet_and_webfont_are_served_from_the_package(app: Flask) -> None:
    client = app.test_client()
    css = client.get("/static/webui/webui.css")
    assert css.status_code == 200 and b"Be Vietnam Pro" in css.data
    font = client.get("/static/webui/fonts/BeVietnamPro-Regular.ttf")
    assert font.status_code == 200 and font.data[:4] == b"\x00\x01\x00\x00"
    assert client.get("/static/webui/fonts/..%2Fsecret").status_code == 404
    assert client.get("/static/webui/fonts/BeVietnamPro-Thin.ttf").status_code == 404


def form_token(client: object, path: str = "/mau") -> str:
    response = client.get(path)  # type: ignore[attr-defined]
    assert response.headers["Cache-Control"] == "private, no-store", "a page with a token is not shared"
    assert "ETag" not in response.headers
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match
    return match.group(1)


def test_a_post_needs_the_signed_token_of_its_own_cookie(app: Flask) -> None:
    client = app.test_client()
    token = form_token(client)
    cookie = client.get_cookie(csrf.COOKIE)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"

    accepted = client.post("/gui", data={"csrf_token": token, "x": "1"})
    assert accepted.status_code == 200 and "đã nhận 1" in accepted.get_data(as_text=True)

    missing = client.post("/gui", data={"x": "1"})
    assert missing.status_code == 400
    assert "Phiên làm việc đã hết hạn" in missing.get_data(as_text=True)
    assert client.post("/gui", data={"csrf_token": token + "x"}).status_code == 400

    # Another visitor's valid token does not match this visitor's cookie.
    other = app.test_client()
    assert other.post("/gui", data={"csrf_token": form_token(other)}).status_code == 200
    assert client.post("/gui", data={"csrf_token": form_token(other)}).status_code == 400

    # Without its cookie the token alone is refused.
    stranger = app.test_client()
    assert stranger.post("/gui", data={"csrf_token": token}).status_code == 400


def test_the_api_beside_the_pages_keeps_its_json_and_needs_no_token(app: Flask) -> None:
    client = app.test_client()
    assert client.post("/api/v1/things").get_json() == {"ok": True}
    missing = client.get("/api/v1/missing")
    assert missing.status_code == 404 and missing.get_json() == {"message": "json"}
    assert "Content-Security-Policy" not in missing.headers


def test_errors_on_pages_are_vietnamese_html(app: Flask) -> None:
    client = app.test_client()
    missing = client.get("/khong-co")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "Không tìm thấy trang" in missing.get_data(as_text=True)
    assert missing.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "ETag" not in missing.headers

    broken = client.get("/hong")
    assert broken.status_code == 500 and "Lỗi hệ thống" in broken.get_data(as_text=True)
    assert "boom" not in broken.get_data(as_text=True)

    bad = client.get("/sai")
    assert bad.status_code == 400 and "Trang: phải là số." in bad.get_data(as_text=True)


def test_a_service_handler_keeps_its_status_on_a_page(app: Flask) -> None:
    page = app.test_client().get("/kho-luu-tru")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "Dịch vụ tạm thời gián đoạn" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
