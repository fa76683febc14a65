"""The editors' API on the real store: role and unit scope, Vietnamese field errors, the
workflow, revisions, optimistic concurrency, sanitised bodies and checked attachments; scheduled
publishing by the real worker process, whose relay puts `content.published` on Kafka."""

from __future__ import annotations

import io
import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from eventkit.topics import Topics
from portal import content_store
from tests.integration.kafka_tools import read_topic
from tests.integration.portal_tools import catalogued_portal_app
from tests.integration.test_store_indexes import BETWEEN, EQUAL, explain, seeks_only
from tests.integration.workers import service_worker

pytestmark = pytest.mark.integration

DISTRICT = "264"
COMMUNE = "09496"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def portal_app(service_environ, monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_URL", "https://luongtai.example.vn")
    monkeypatch.setenv("PORTAL_BLOB_URL", (tmp_path / "portal-blobs").as_uri())
    return catalogued_portal_app(service_environ)


@pytest.fixture
def client(portal_app):
    return portal_app.test_client()


@pytest.fixture
def editor(staff_headers) -> dict[str, str]:
    return staff_headers("editor", DISTRICT, user_id="bt-1")


def article(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Huyện Lương Tài tổ chức hội nghị cải cách hành chính",
        "summary": "Hội nghị tổng kết công tác cải cách hành chính năm 2026.",
        "body": "## Nội dung\n\nCác xã **đạt** kết quả tốt.",
        "category": "Cải cách hành chính",
        "tags": ["CCHC"],
        "unit": DISTRICT,
        **overrides,
    }


def document(**overrides: Any) -> dict[str, Any]:
    return {
        "number": "123/QĐ-UBND",
        "doc_type": "Quyết định",
        "issuer": "UBND huyện Lương Tài",
        "signer": "Nguyễn Văn An",
        "issued_on": "2026-03-02",
        "effective_on": "2026-03-02",
        "summary": "Về việc ban hành quy chế tiếp nhận hồ sơ một cửa",
        "unit": DISTRICT,
        **overrides,
    }


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


def test_only_editors_of_the_unit_reach_its_content(client, staff_headers, editor):
    assert client.post("/api/v1/articles", json=article()).status_code == 401
    officer = client.post("/api/v1/articles", json=article(), headers=staff_headers("receptionist", DISTRICT))
    assert officer.status_code == 403
    other_unit = client.post("/api/v1/articles", json=article(), headers=staff_headers("editor", COMMUNE))
    assert other_unit.status_code == 403
    assert other_unit.get_json()["message"] == "Tài khoản không biên tập nội dung của đơn vị này."

    made = client.post("/api/v1/articles", json=article(), headers=editor).get_json()
    commune_editor = staff_headers("editor", COMMUNE, user_id="bt-2")
    assert client.get(f"/api/v1/articles/{made['id']}", headers=commune_editor).status_code == 403
    moved = client.patch(
        f"/api/v1/articles/{made['id']}", json={"unit": COMMUNE}, headers={**editor, **if_match(1)}
    )
    assert moved.status_code == 403  # an editor moves nothing into a unit they do not serve
    assert client.get(f"/api/v1/articles?unit={COMMUNE}", headers=editor).status_code == 403
    listed = client.get("/api/v1/articles", headers=editor).get_json()["items"]
    assert [a["id"] for a in listed] == [made["id"]]
    assert client.get("/api/v1/articles", headers=commune_editor).get_json()["items"] == []


def test_invalid_fields_are_named_in_vietnamese(client, editor):
    answer = client.post(
        "/api/v1/articles", json=article(title="Tin", category=None, body_format="doc"), headers=editor
    )
    assert answer.status_code == 422
    errors = answer.get_json()["errors"]["json"]
    assert errors["title"] == ["Độ dài phải từ 5 đến 250 ký tự."]
    assert errors["category"] == ["Không được để trống."]
    assert errors["body_format"] == ["Phải là một trong: markdown, html."]

    answer = client.post(
        "/api/v1/documents",
        json=document(number="QĐ 123", issued_on="02/03/2026", legal_status="valid"),
        headers=editor,
    )
    errors = answer.get_json()["errors"]["json"]
    assert answer.status_code == 422
    assert errors["number"] == ["Số, ký hiệu dạng 123/QĐ-UBND."]
    assert errors["issued_on"] == ["Ngày không hợp lệ (định dạng YYYY-MM-DD)."]
    assert "legal_status" in errors

    answer = client.post("/api/v1/documents", json=document(effective_on="2026-01-01"), headers=editor)
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["json"] == {
        "effective_on": ["Ngày hiệu lực không được trước ngày ban hành."]
    }
    answer = client.post("/api/v1/documents", json=document(replaces=["0123456789ab"]), headers=editor)
    assert answer.get_json()["errors"]["json"] == {"replaces": ["Không có văn bản mã 0123456789ab."]}

    made = client.post("/api/v1/articles", json=article(), headers=editor).get_json()
    late = client.post(
        f"/api/v1/articles/{made['id']}/status",
        json={"status": "review", "publish_at": "2026-13-01T00:00:00+07:00", "version": 1},
        headers=editor,
    )
    assert late.status_code == 422 and "publish_at" in late.get_json()["errors"]["json"]
    unchanged = client.patch(f"/api/v1/articles/{made['id']}", json={"version": 1}, headers=editor)
    assert (
        unchanged.status_code == 200 and unchanged.get_json()["version"] == 1
    )  # nothing sent, nothing saved
    assert (
        client.patch(
            f"/api/v1/articles/{made['id']}", json={"title": "Tiêu đề mới"}, headers=editor
        ).status_code
        == 428
    )


def test_bodies_are_sanitised_whatever_their_format(client, editor):
    markdown = article(body="# Tin\n\n<script>alert(1)</script>\n\n[xem](javascript:alert(1)) **đậm**")
    made = client.post("/api/v1/articles", json=markdown, headers=editor).get_json()
    assert "<script>" not in made["body_html"] and "javascript:" not in made["body_html"].replace(
        "(javascript:", ""
    )
    assert "<h1>Tin</h1>" in made["body_html"] and "<strong>đậm</strong>" in made["body_html"]
    assert 'href="javascript' not in made["body_html"]

    html = article(
        body_format="html",
        body='<p onclick="steal()">Đoạn <b>một</b><script>alert(1)</script></p>'
        '<iframe src="https://x.example"></iframe><a href="https://luongtai.gov.vn">Liên kết</a>',
    )
    made = client.post("/api/v1/articles", json=html, headers=editor).get_json()
    link = '<a href="https://luongtai.gov.vn" rel="noopener noreferrer nofollow">Liên kết</a>'
    assert made["body_html"] == f"<p>Đoạn <b>một</b></p>{link}"
    assert made["body"] == html["body"]  # the source is kept as written


def test_the_workflow_keeps_revisions_and_refuses_stale_versions(client, editor):
    made = client.post("/api/v1/articles", json=article(), headers=editor)
    assert made.status_code == 201 and made.headers["ETag"] == '"1"'
    item = made.get_json()
    assert item["status"] == "draft" and item["version"] == 1
    url = f"/api/v1/articles/{item['id']}"

    edited = client.patch(
        url, json={"title": "Hội nghị cải cách hành chính năm 2026"}, headers={**editor, **if_match(1)}
    )
    assert edited.status_code == 200 and edited.get_json()["version"] == 2
    assert edited.get_json()["slug"].startswith("hoi-nghi-cai-cach-hanh-chinh-nam-2026-")
    stale = client.patch(url, json={"summary": "Tóm tắt khác của bài"}, headers={**editor, **if_match(1)})
    assert stale.status_code == 409 and "phiên bản hiện tại 2" in stale.get_json()["message"]
    stale_status = client.post(f"{url}/status", json={"status": "review", "version": 1}, headers=editor)
    assert stale_status.status_code == 409

    skip = client.post(f"{url}/status", json={"status": "unpublished", "version": 2}, headers=editor)
    assert skip.status_code == 409 and "được phép: review" in skip.get_json()["message"]
    review = client.post(f"{url}/status", json={"status": "review"}, headers={**editor, **if_match(2)})
    assert review.get_json()["status"] == "review"
    published = client.post(
        f"{url}/status", json={"status": "published", "version": 3}, headers=editor
    ).get_json()
    assert published["status"] == "published" and published["published_at"]
    assert (
        client.patch(url, json={"summary": "Sửa khi đã đăng"}, headers={**editor, **if_match(4)}).status_code
        == 409
    )
    gone = client.post(
        f"{url}/status", json={"status": "unpublished", "version": 4}, headers=editor
    ).get_json()
    assert gone["status"] == "unpublished"

    revisions = client.get(f"{url}/revisions", headers=editor).get_json()["items"]
    assert [r["version"] for r in revisions] == [5, 4, 3, 2, 1]
    assert [r["item_state"]["status"] for r in revisions] == [
        "unpublished",
        "published",
        "review",
        "draft",
        "draft",
    ]
    assert revisions[-1]["item_state"]["title"] == article()["title"] and revisions[-1]["by"] == "bt-1"


def test_a_document_needs_its_pdf_checked_from_the_bytes_and_replaces_the_older_one(client, editor):
    old = client.post("/api/v1/documents", json=document(number="12/QĐ-UBND"), headers=editor).get_json()
    new = client.post("/api/v1/documents", json=document(replaces=[old["id"]]), headers=editor).get_json()
    assert new["title"] == "Quyết định số 123/QĐ-UBND"
    for doc in (old, new):
        client.post(
            f"/api/v1/documents/{doc['id']}/status", json={"status": "review", "version": 1}, headers=editor
        )
    url = f"/api/v1/documents/{new['id']}"
    without = client.post(f"{url}/status", json={"status": "published", "version": 2}, headers=editor)
    assert without.status_code == 422
    assert without.get_json()["errors"]["json"] == {
        "pdf": ["Văn bản cần có tệp PDF đính kèm trước khi đăng."]
    }
    not_pdf = client.put(f"{url}/pdf", data=b"<html>", headers={**editor, **if_match(2)})
    assert not_pdf.status_code == 415
    attached = client.put(f"{url}/pdf", data=PDF, headers={**editor, **if_match(2)})
    assert attached.status_code == 200 and attached.get_json()["pdf"]["size"] == len(PDF)
    client.put(f"/api/v1/documents/{old['id']}/pdf", data=PDF, headers={**editor, **if_match(2)})
    client.post(
        f"/api/v1/documents/{old['id']}/status", json={"status": "published", "version": 3}, headers=editor
    )
    client.post(f"{url}/status", json={"status": "published", "version": 3}, headers=editor)

    replaced = client.get(f"/api/v1/documents/{old['id']}", headers=editor).get_json()
    assert replaced["legal_status"] == "replaced" and replaced["replaced_by"] == new["id"]
    download = client.get(f"/van-ban/{new['id']}/tep.pdf")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"


def png(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_a_cover_image_is_a_png_or_jpeg_within_the_limit(client, editor):
    item = client.post("/api/v1/articles", json=article(), headers=editor).get_json()
    url = f"/api/v1/articles/{item['id']}/cover"
    assert client.put(url, data=PDF, headers={**editor, **if_match(1)}).status_code == 415
    fake = b"\x89PNG\r\n\x1a\n" + b"not really"
    assert client.put(url, data=fake, headers={**editor, **if_match(1)}).status_code == 415
    assert (
        client.put(
            url, data=b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024), headers={**editor, **if_match(1)}
        ).status_code
        == 413
    )
    attached = client.put(url, data=png(), headers={**editor, **if_match(1)})
    assert attached.status_code == 200 and attached.get_json()["cover"]["media_type"] == "image/png"


def test_scheduled_items_and_public_lists_are_read_through_their_indexes(portal_app, client, editor):
    for n in range(3):
        made = client.post(
            "/api/v1/articles", json=article(title=f"Bài viết số {n} của huyện"), headers=editor
        )
        item = made.get_json()
        client.post(
            f"/api/v1/articles/{item['id']}/status", json={"status": "review", "version": 1}, headers=editor
        )
        client.post(
            f"/api/v1/articles/{item['id']}/status",
            json={"status": "published", "version": 2},
            headers=editor,
        )
    db = portal_app.extensions["db"]
    due = {"status": "scheduled", "publish_at": {"$gte": content_store.EPOCH, "$lte": datetime.now(UTC)}}
    assert seeks_only(
        db, content_store.ARTICLES, "status_publish_at", due, {"publish_at": 1}, seek=BETWEEN
    ), explain(db, content_store.ARTICLES, due, {"publish_at": 1})
    facet = {"facet": "article|unit=264|category=*|year=*"}
    listing = content_store.CONTENT_LISTING
    assert seeks_only(db, listing, "facet_1_sort_key_1", facet, {"sort_key": 1}, seek=EQUAL), explain(
        db, listing, facet, {"sort_key": 1}
    )
    assert db[listing].count_documents(facet) == 3


def wait_for(check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.3)
    return None


def content_events(platform, item_id: str) -> list[dict[str, Any]]:
    records = read_topic(platform.bootstrap, Topics.PORTAL_CONTENT.name, expect=0, timeout=5)
    return [json.loads(r.value) for r in records if r.key == item_id.encode()]


def test_the_worker_publishes_at_the_set_time_and_the_events_reach_kafka(
    client, editor, service_environ, platform, tmp_path
):
    made = client.post("/api/v1/articles", json=article(), headers=editor).get_json()
    url = f"/api/v1/articles/{made['id']}"
    client.post(f"{url}/status", json={"status": "review", "version": 1}, headers=editor)
    at = datetime.now(UTC) + timedelta(seconds=4)
    scheduled = client.post(
        f"{url}/status",
        json={"status": "published", "publish_at": at.isoformat(), "version": 2},
        headers=editor,
    ).get_json()
    assert scheduled["status"] == "scheduled"
    assert client.get("/tin-tuc").get_data(as_text=True).count(made["title"]) == 0

    with service_worker(
        "portal", service_environ, tmp_path / "worker.log", PUBLISH_CHECK_SECONDS="0.5"
    ) as log:

        def published() -> dict[str, Any] | None:
            item = client.get(url, headers=editor).get_json()
            return item if item["status"] == "published" else None

        item = wait_for(published, 60)
        assert item, (tmp_path / "worker.log").read_text()[-3000:]
        assert datetime.fromisoformat(item["published_at"]) == at.replace(
            microsecond=at.microsecond // 1000 * 1000
        )
        assert datetime.now(UTC) >= at
        # The public list's rows are written just after the item's own write.
        assert wait_for(lambda: made["title"] in client.get("/tin-tuc").get_data(as_text=True), 10)

        client.post(
            f"{url}/status", json={"status": "unpublished", "version": item["version"]}, headers=editor
        )
        events = wait_for(lambda: (e := content_events(platform, made["id"])) and len(e) >= 2 and e, 60)
        assert events, log.read_text()[-3000:]
    assert [e["type"] for e in events] == [
        "vn.motcua.portal.content.published.v1",
        "vn.motcua.portal.content.unpublished.v1",
    ]
    assert [e["sequence"] for e in events] == [1, 2]
    data = events[0]["data"]
    assert (
        data["kind"] == "article" and data["unit"] == DISTRICT and data["path"] == f"/tin-tuc/{item['slug']}"
    )
    assert made["title"] not in client.get("/tin-tuc").get_data(as_text=True)


def published(client, headers, kind: str = "articles", pdf: bool = True, **fields: Any) -> dict[str, Any]:
    """A new item taken through review to published by the API."""
    body = article(**fields) if kind == "articles" else document(**fields)
    item = client.post(f"/api/v1/{kind}", json=body, headers=headers).get_json()
    url = f"/api/v1/{kind}/{item['id']}"
    version = client.post(
        f"{url}/status", json={"status": "review", "version": 1}, headers=headers
    ).get_json()["version"]
    if kind == "documents" and pdf:
        version = client.put(f"{url}/pdf", data=PDF, headers={**headers, **if_match(version)}).get_json()[
            "version"
        ]
    answer = client.post(f"{url}/status", json={"status": "published", "version": version}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def titles(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/(?:tin-tuc|van-ban)/[^"]+">([^<]+)</a></h2>', html)


def test_news_pages_show_only_published_articles_by_unit_category_and_year(client, editor, staff_headers):
    commune = staff_headers("editor", COMMUNE, user_id="bt-2")
    first = published(client, editor, title="Hội nghị cải cách hành chính huyện")
    second = published(client, editor, title="Tuyên truyền phòng chống lụt bão", category="Thông báo")
    third = published(client, commune, title="Xã An Thịnh ra quân làm giao thông nông thôn", unit=COMMUNE)
    draft = client.post(
        "/api/v1/articles", json=article(title="Bản nháp chưa đăng"), headers=editor
    ).get_json()

    everything = client.get("/tin-tuc").get_data(as_text=True)
    assert titles(everything) == [third["title"], second["title"], first["title"]]  # newest first
    assert "Bản nháp chưa đăng" not in everything
    assert titles(client.get(f"/tin-tuc?unit={COMMUNE}").get_data(as_text=True)) == [third["title"]]
    assert titles(client.get("/tin-tuc?category=Thông+báo").get_data(as_text=True)) == [second["title"]]
    this_year = datetime.now(UTC).year
    assert len(titles(client.get(f"/tin-tuc?year={this_year}").get_data(as_text=True))) == 3
    assert titles(client.get("/tin-tuc?year=2016").get_data(as_text=True)) == []
    assert client.get("/tin-tuc?category=Không+có").status_code == 400
    assert client.get("/tin-tuc?page=0").status_code == 400

    detail = client.get(f"/tin-tuc/{first['slug']}")
    html = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "<h2>Nội dung</h2>" in html and "<strong>đạt</strong>" in html
    assert f'<link rel="canonical" href="https://luongtai.example.vn/tin-tuc/{first["slug"]}">' in html
    by_id = client.get(f"/tin-tuc/{first['id']}")
    assert by_id.status_code == 301 and by_id.headers["Location"].endswith(f"/tin-tuc/{first['slug']}")
    assert client.get(f"/tin-tuc/{draft['slug']}").status_code == 404

    unit_page = client.get(f"/don-vi/{COMMUNE}").get_data(as_text=True)
    assert third["title"] in unit_page and first["title"] not in unit_page
    home = client.get("/").get_data(as_text=True)
    assert all(item["title"] in home for item in (first, second, third))

    found = client.get("/tin-tuc?q=hoi+nghi+cai+cach").get_data(as_text=True)
    assert titles(found)[0] == first["title"]


def test_paging_reads_one_page_of_the_list(client, editor):
    made = [published(client, editor, title=f"Tin số {n:02d} của huyện Lương Tài") for n in range(12)]
    page_one = titles(client.get("/tin-tuc").get_data(as_text=True))
    page_two = titles(client.get("/tin-tuc?page=2").get_data(as_text=True))
    assert len(page_one) == 10 and page_two == [made[1]["title"], made[0]["title"]]
    assert "Tìm thấy 12 tin, trang 2/2." in client.get("/tin-tuc?page=2").get_data(as_text=True)


def test_views_are_counted_in_memory_and_flushed_with_one_increment(client, editor, portal_app, monkeypatch):
    from portal.web import content as pages

    counts = pages.ViewCounts(flush_seconds=3600)
    monkeypatch.setattr(pages, "VIEWS", counts)
    item = published(client, editor)
    db = portal_app.extensions["db"]
    for n in range(3):
        assert f"{n + 1} lượt xem" in client.get(f"/tin-tuc/{item['slug']}").get_data(as_text=True)
    assert content_store.views_of(db, item["id"]) == 0  # nothing written per view
    counts.flush()
    assert content_store.views_of(db, item["id"]) == 3
    assert "4 lượt xem" in client.get(f"/tin-tuc/{item['slug']}").get_data(as_text=True)


def test_document_pages_filter_by_type_issuer_year_and_status(client, editor):
    old = published(
        client, editor, kind="documents", number="12/QĐ-UBND", issued_on="2025-05-04", effective_on=None
    )
    new = published(
        client,
        editor,
        kind="documents",
        replaces=[old["id"]],
        doc_type="Chỉ thị",
        number="03/CT-UBND",
        summary="Về tăng cường kỷ luật, kỷ cương hành chính",
    )
    everything = titles(client.get("/van-ban").get_data(as_text=True))
    assert everything == [new["title"], old["title"]]
    assert titles(client.get("/van-ban?doc_type=Chỉ+thị").get_data(as_text=True)) == [new["title"]]
    assert titles(client.get("/van-ban?year=2025").get_data(as_text=True)) == [old["title"]]
    assert titles(client.get("/van-ban?legal_status=replaced").get_data(as_text=True)) == [old["title"]]
    assert titles(client.get("/van-ban?legal_status=in_force").get_data(as_text=True)) == [new["title"]]
    issuer = titles(client.get("/van-ban?issuer=UBND+huyện+Lương+Tài").get_data(as_text=True))
    assert issuer == [new["title"], old["title"]]
    detail = client.get(f"/van-ban/{old['id']}").get_data(as_text=True)
    assert "Đã được thay thế" in detail and f'href="/van-ban/{new["id"]}"' in detail
    assert f'href="/van-ban/{old["id"]}/tep.pdf"' in detail
    assert client.get("/van-ban?legal_status=valid").status_code == 400
    # Searched without diacritics, and the filters the index does not hold checked on what it finds.
    assert titles(client.get("/van-ban?q=tang+cuong+ky+luat").get_data(as_text=True)) == [new["title"]]
    assert titles(client.get("/van-ban?q=QUY+CHẾ+TIẾP+NHẬN").get_data(as_text=True)) == [old["title"]]
    searched = client.get("/van-ban?q=tang+cuong+ky+luat&legal_status=replaced").get_data(as_text=True)
    assert titles(searched) == []


def test_the_atom_feed_and_sitemap_list_what_is_published(client, editor, staff_headers):
    district = published(client, editor)
    commune = published(
        client, staff_headers("editor", COMMUNE, user_id="bt-2"), title="Tin của xã", unit=COMMUNE
    )
    document_item = published(client, editor, kind="documents")
    atom = "{http://www.w3.org/2005/Atom}"
    feed = client.get(f"/tin-tuc/atom.xml?unit={COMMUNE}")
    assert feed.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.data)
    entries = root.findall(f"{atom}entry")
    assert [e.findtext(f"{atom}title") for e in entries] == ["Tin của xã"]
    assert (
        entries[0].find(f"{atom}link").get("href") == f"https://luongtai.example.vn/tin-tuc/{commune['slug']}"
    )
    assert len(ET.fromstring(client.get("/tin-tuc/atom.xml").data).findall(f"{atom}entry")) == 2

    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert f"https://luongtai.example.vn/tin-tuc/{district['slug']}" in sitemap
    assert f"https://luongtai.example.vn/van-ban/{document_item['id']}" in sitemap
