"""News and directive documents in a real browser: an editor's scheduled article appears on
/tin-tuc at its time (published by the portal's real worker), the list and detail pages pass axe
and fit a 360 px phone, with screenshots kept."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from devstack.infra import free_ports
from devstack.tokens import issue_token
from tests.browser.checks import PHONE, page_width, serious_violations
from tests.browser.servers import gunicorn, prepare_portal, scratch_database, service_env
from tests.integration.workers import service_worker

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class ContentPortal:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}

    def api(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = requests.request(
            method, f"{self.url}/api/v1{path}", headers=self.headers, timeout=10, **kwargs
        )
        assert answer.status_code in (200, 201), answer.text
        return dict(answer.json())

    def to_review(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        item = self.api("POST", f"/{kind}", json=fields)
        return self.api("POST", f"/{kind}/{item['id']}/status", json={"status": "review", "version": 1})


@pytest.fixture(scope="module")
def content_portal(infra, jwt_keys, tmp_path_factory) -> Iterator[ContentPortal]:
    """The portal under gunicorn with its blob store, and its worker publishing every 0.5 s."""
    folder = tmp_path_factory.mktemp("portal-content")
    [port] = free_ports(1)
    with scratch_database(infra, "test_portal_content", prepare_portal) as db:
        env = service_env(
            infra,
            jwt_keys,
            db.name,
            KAFKA_BOOTSTRAP_SERVERS=infra.bootstrap,
            PORTAL_URL=f"http://127.0.0.1:{port}",
            PORTAL_BLOB_URL=(folder / "blobs").as_uri(),
        )
        with (
            gunicorn("portal.wsgi:app", env, folder / "gunicorn.log", port=port) as url,
            service_worker("portal", env, folder / "worker.log", PUBLISH_CHECK_SECONDS="0.5"),
        ):
            token = issue_token(
                ["editor"], ["264"], user_id="bt-1", name="Biên tập viên", private_key=jwt_keys[0]
            )
            yield ContentPortal(url, token)


@pytest.fixture(scope="module")
def published_document(content_portal) -> dict[str, Any]:
    item = content_portal.to_review(
        "documents",
        {
            "number": "15/CT-UBND",
            "doc_type": "Chỉ thị",
            "issuer": "UBND huyện Lương Tài",
            "signer": "Nguyễn Văn An",
            "issued_on": "2026-02-10",
            "summary": "Về việc đẩy mạnh giải quyết thủ tục hành chính trực tuyến",
            "unit": "264",
        },
    )
    response = requests.put(
        f"{content_portal.url}/api/v1/documents/{item['id']}/pdf",
        data=PDF,
        headers={**content_portal.headers, "If-Match": f'"{item["version"]}"'},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    version = response.json()["version"]
    return content_portal.api(
        "POST", f"/documents/{item['id']}/status", json={"status": "published", "version": version}
    )


@pytest.fixture
def page(browser) -> Iterator[Any]:
    context = browser.new_context(locale="vi-VN")
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_scheduled_article_appears_on_the_news_page_at_its_time(content_portal, page, artifacts):
    title = "Lương Tài khai trương Bộ phận Một cửa hiện đại"
    item = content_portal.to_review(
        "articles",
        {
            "title": title,
            "summary": "Bộ phận Một cửa huyện bắt đầu tiếp nhận hồ sơ tại trụ sở mới.",
            "body": "Từ hôm nay, người dân nộp hồ sơ tại **trụ sở mới**.",
            "category": "Cải cách hành chính",
            "unit": "264",
        },
    )
    at = datetime.now(UTC) + timedelta(seconds=5)
    scheduled = content_portal.api(
        "POST",
        f"/articles/{item['id']}/status",
        json={"status": "published", "publish_at": at.isoformat(), "version": item["version"]},
    )
    assert scheduled["status"] == "scheduled"
    page.goto(f"{content_portal.url}/tin-tuc")
    assert page.get_by_role("link", name=title).count() == 0

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        # Pages are cached briefly by the browser: each look is a fresh request.
        page.goto(f"{content_portal.url}/tin-tuc?t={time.monotonic_ns()}")
        if page.get_by_role("link", name=title).count():
            break
        time.sleep(0.5)
    assert page.get_by_role("link", name=title).count() == 1
    assert datetime.now(UTC) >= at, "shown before its time"
    page.screenshot(path=str(artifacts / "news.png"), full_page=True)
    page.get_by_role("link", name=title).click()
    page.wait_for_url("**/tin-tuc/**")
    assert page.locator("h1").inner_text() == title
    assert page.locator(".article-body strong").inner_text() == "trụ sở mới"
    page.screenshot(path=str(artifacts / "article.png"), full_page=True)


def content_pages(document: dict[str, Any]) -> dict[str, str]:
    return {"news": "/tin-tuc", "documents": "/van-ban", "document": f"/van-ban/{document['id']}"}


@pytest.mark.parametrize("name", ["news", "documents", "document"])
def test_content_pages_pass_axe_and_fit_a_phone(
    content_portal, published_document, browser, axe_source, artifacts, name
):
    path = content_pages(published_document)[name]
    context = browser.new_context(bypass_csp=True, locale="vi-VN", viewport=PHONE, device_scale_factor=1)
    try:
        page = context.new_page()
        page.goto(content_portal.url + path)
        width = page_width(page)
        assert width <= PHONE["width"], f"{name} scrolls sideways: {width}px"
        page.screenshot(path=str(artifacts / f"{name}-360.png"), full_page=True)
        assert serious_violations(page, axe_source, artifacts, name) == []
    finally:
        context.close()


def test_the_document_page_downloads_its_pdf(content_portal, published_document):
    page_html = requests.get(f"{content_portal.url}/van-ban/{published_document['id']}", timeout=10).text
    assert f"/van-ban/{published_document['id']}/tep.pdf" in page_html
    download = requests.get(f"{content_portal.url}/van-ban/{published_document['id']}/tep.pdf", timeout=10)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["Content-Disposition"] == 'attachment; filename="15-CT-UBND.pdf"'
