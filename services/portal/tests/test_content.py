"""The editors' content rules that need no store: sanitising, slugs, list facets, the workflow."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image

from portal.service import content
from portal.service.content import ARTICLE, DOCUMENT, TRANSITIONS, Status


def test_markdown_and_html_bodies_lose_scripts_handlers_and_javascript_links():
    markdown = content.sanitise("# Tiêu đề\n\n<script>x()</script> [a](javascript:x()) **b**", "markdown")
    assert markdown.startswith("<h1>Tiêu đề</h1>") and "<strong>b</strong>" in markdown
    assert "<script>" not in markdown and 'href="javascript' not in markdown
    html = content.sanitise(
        '<p onclick="x()" style="color:red">Đ<script>x()</script></p><iframe></iframe>', "html"
    )
    assert html == "<p>Đ</p>"
    assert content.plain_text("<p>Một <b>hai</b></p>\n<p>ba</p>") == "Một hai ba"


def test_a_slug_is_the_folded_title_ending_with_the_id():
    slug = content.slug_of("Đăng ký khai sinh: hướng dẫn mới!", "0a1b2c3d4e5f")
    assert slug == "dang-ky-khai-sinh-huong-dan-moi-0a1b2c3d4e5f"
    assert content.item_id_of(slug) == "0a1b2c3d4e5f" and content.item_id_of("0a1b2c3d4e5f") == "0a1b2c3d4e5f"
    assert content.slug_of("!!!", "0a1b2c3d4e5f") == "0a1b2c3d4e5f"


def test_a_published_item_answers_every_combination_of_its_filters_newest_first():
    older = {"_id": "a1", "unit": "264", "category": "Thông báo", "year": 2026, "title": "t", "slug": "t-a1"}
    newer = {**older, "_id": "a2"}
    rows_old = content.listing_rows(ARTICLE, {**older, "published_at": datetime(2026, 1, 1, tzinfo=UTC)})
    rows_new = content.listing_rows(ARTICLE, {**newer, "published_at": datetime(2026, 2, 1, tzinfo=UTC)})
    assert len(rows_old) == 8
    assert {r["facet"] for r in rows_old} >= {
        "article|unit=*|category=*|year=*",
        "article|unit=264|category=Thông báo|year=2026",
    }
    assert rows_new[0]["sort_key"] < rows_old[0]["sort_key"]
    document = {"_id": "d1", "unit": "264", "doc_type": "Quyết định", "issuer": "UBND", "year": 2025}
    rows = content.listing_rows(
        DOCUMENT, {**document, "legal_status": "in_force", "published_at": datetime.now(UTC)}
    )
    assert len(rows) == 32
    assert content.facet_key(DOCUMENT, {"legal_status": "replaced"}) == (
        "document|unit=*|doc_type=*|issuer=*|year=*|legal_status=replaced"
    )


def test_the_workflow_reaches_every_status_and_publishes_only_from_review_or_schedule():
    reachable = {Status.DRAFT}
    for _ in Status.ALL:
        reachable |= {target for status in reachable for target in TRANSITIONS[status]}
    assert reachable == set(Status.ALL)
    assert [s for s, targets in TRANSITIONS.items() if Status.PUBLISHED in targets] == [
        Status.REVIEW,
        Status.SCHEDULED,
    ]


def test_cover_images_are_judged_from_their_bytes():
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "JPEG")
    assert content.image_type(out.getvalue()) == "image/jpeg"
    assert content.image_type(b"\x89PNG\r\n\x1a\ntruncated") is None
    assert content.image_type(b"%PDF-1.4") is None
