"""Portal search on the real store: the 25 procedures of the catalogue, news and documents, found
by a query typed with or without diacritics, in capitals, with either tone-mark placement or a
typo; the documents a query reads stay bounded as the corpus grows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from eventkit.mongo import Db
from portal import store
from portal.search import StoreSearch, sources, store_index
from portal.search.store_index import POSTINGS, ReadStats
from tests.integration.test_store_indexes import plan, uses_index

pytestmark = pytest.mark.integration

SEED = Path(__file__).resolve().parents[2] / "services/processing/processing/seed/procedures.json"
PROCEDURES = json.loads(SEED.read_text(encoding="utf-8"))
BIRTH = "1.001193"  # Thủ tục đăng ký khai sinh
MARRIAGE = "1.000894"  # Thủ tục đăng ký kết hôn
RESIDENCE = "1.004222"  # Đăng ký thường trú
WILL = "2.001019"  # Thủ tục chứng thực di chúc
HOUSEHOLD_BUSINESS = "1.001612"  # Đăng ký thành lập hộ kinh doanh

ARTICLES = [
    (
        "a-hoa-binh",
        "Đoàn công tác tỉnh Hoà Bình thăm huyện Lương Tài",
        "Trao đổi kinh nghiệm cải cách hành chính.",
        "huyen",
    ),
    (
        "a-thuy-loi",
        "Nạo vét kênh mương, công trình thuỷ lợi trước mùa mưa",
        "Các xã ra quân làm thủy lợi nội đồng.",
        "xa-an-thinh",
    ),
    (
        "a-hoa-giai",
        "Hòa giải ở cơ sở: kết quả năm 2025",
        "Tổ hòa giải thôn giải quyết 42 vụ việc.",
        "xa-an-thinh",
    ),
    ("a-hoa", "Hội hoa xuân tại thị trấn Thứa", "Hoa đào, hoa mai về phố.", "huyen"),
    ("a-hoa-chat", "Kiểm tra cơ sở kinh doanh hóa chất", "Đoàn liên ngành kiểm tra 12 cơ sở.", "huyen"),
    (
        "a-khai-sinh-online",
        "Hướng dẫn làm giấy khai sinh trực tuyến",
        "Người dân nộp hồ sơ khai sinh qua Cổng dịch vụ công.",
        "huyen",
    ),
]
DOCUMENTS = [
    ("d-123", "Quyết định về việc ban hành quy chế hoạt động của Bộ phận Một cửa", "Số 123/QĐ-UBND", "huyen"),
    ("d-ke-hoach", "Kế hoạch cải cách hành chính năm 2026", "Kế hoạch số 15/KH-UBND", "huyen"),
]


def index_corpus(search: StoreSearch) -> None:
    for procedure in PROCEDURES:
        sources.put(search, sources.procedure_entry(procedure))
    for id, title, summary, unit in ARTICLES:
        search.index("article", id, title, summary, {"unit": unit})
    for id, title, summary, unit in DOCUMENTS:
        search.index("document", id, title, summary, {"unit": unit, "year": 2026})


@pytest.fixture(scope="module")
def corpus_db(infra: Any) -> Iterator[Db]:
    """One database indexed once for the module; a test that changes it puts it back."""
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_url, retryWrites=False, tz_aware=True)
    db = client[f"test_search_{uuid.uuid4().hex[:8]}"]
    store.ensure_indexes(db)
    index_corpus(StoreSearch(db))
    yield db
    client.drop_database(db.name)
    client.close()


@pytest.fixture
def search(corpus_db: Db, platform: Any) -> StoreSearch:
    return StoreSearch(corpus_db)


def ids(hits: list[Any]) -> list[str]:
    return [hit.id for hit in hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("khai sinh", BIRTH),
        ("dang ky khai sinh", BIRTH),
        ("ĐĂNG KÝ KHAI SINH", BIRTH),
        ("Đăng ký khai sinh", BIRTH),
        ("ket hon", MARRIAGE),
        ("đăng ký thường trú", RESIDENCE),
        ("chung thuc di chuc", WILL),
        ("THÀNH LẬP HỘ KINH DOANH", HOUSEHOLD_BUSINESS),
        ("hòa bình", "a-hoa-binh"),  # written "Hoà Bình"
        ("thủy lợi", "a-thuy-loi"),  # written "thuỷ lợi" in the title
        ("thuỷ lợi", "a-thuy-loi"),
        ("một cửa", "d-123"),
    ],
)
def test_each_query_finds_its_document_first(search: StoreSearch, query: str, expected: str) -> None:
    hits = search.search(query)
    assert hits and hits[0].id == expected, [(hit.id, hit.title) for hit in hits]
    assert hits == sorted(hits, key=lambda hit: hit.score, reverse=True)


def test_a_hit_names_its_kind_id_and_title(search: StoreSearch) -> None:
    [hit, *_] = search.search("khai sinh", kinds=["procedure"])
    assert (hit.kind, hit.id, hit.title) == ("procedure", BIRTH, "Thủ tục đăng ký khai sinh")
    assert hit.score > 0


def test_the_diacritics_typed_rank_their_documents_first(search: StoreSearch) -> None:
    assert ids(search.search("hòa", kinds=["article"]))[0] == "a-hoa-giai"
    # "Hòa" and "Hoà" (the other placement) before "hóa" and "hoa".
    assert set(ids(search.search("hòa", kinds=["article"]))[:2]) == {"a-hoa-giai", "a-hoa-binh"}
    assert ids(search.search("hoá", kinds=["article"]))[0] == "a-hoa-chat"  # old placement typed
    # Typed without marks: all forms alike, the shortest title first.
    assert ids(search.search("hoa", kinds=["article"]))[:1] == ["a-hoa"]
    # Without diacritics every form of the word is found.
    assert {"a-hoa-giai", "a-hoa-chat", "a-hoa", "a-hoa-binh"} <= set(
        ids(search.search("hoa", kinds=["article"]))
    )


@pytest.mark.parametrize(
    "query",
    [
        "dang ky khai sinj",
        "dang ky khai sih",
        "dang ky khai sinhh",
        "dang ky kahi sinh",
        "dnag ky khai sinh",
        "ĐĂNG KÝ KHAI XINH",
    ],
    ids=[
        "substitution",
        "deletion",
        "insertion",
        "transposition",
        "transposition-first-word",
        "capitals",
    ],
)
def test_a_one_letter_typo_still_finds_it_first(search: StoreSearch, query: str) -> None:
    hits = search.search(query, kinds=["procedure"])
    assert hits and hits[0].id == BIRTH, [(hit.id, hit.title) for hit in hits]


def test_what_is_written_as_typed_ranks_before_what_a_typo_resembles(search: StoreSearch) -> None:
    search.index("article", "a-typo", "Đăng ký khai sinj", "")  # a title with the typo in it
    hits = search.search("dang ky khai sinj")
    assert ids(hits)[0] == "a-typo"
    # A document holds every word, so the typo is taken as meant: the procedure has three of four.
    birth = next(hit for hit in hits if hit.id == BIRTH)
    assert birth.score < hits[0].score
    search.remove("article", "a-typo")


def test_kinds_and_filters_narrow_the_answer(search: StoreSearch) -> None:
    assert {hit.kind for hit in search.search("khai sinh", kinds=["article"])} == {"article"}
    assert ids(search.search("khai sinh", kinds=["article"]))[0] == "a-khai-sinh-online"
    assert ids(search.search("hoa", kinds=["article"], filters={"unit": "xa-an-thinh"})) == ["a-hoa-giai"]
    assert (
        search.search("cai cach hanh chinh", kinds=["document"], filters={"year": 2026})[0].id == "d-ke-hoach"
    )
    assert search.search("cai cach hanh chinh", kinds=["document"], filters={"year": 2025}) == []
    assert search.search("khai sinh", kinds=["procedure"], filters={"field": "Hộ tịch"})[0].id == BIRTH


def test_removing_and_reindexing_change_what_is_found(search: StoreSearch) -> None:
    search.remove("procedure", BIRTH)
    assert BIRTH not in ids(search.search("khai sinh"))
    search.index("procedure", BIRTH, "Thủ tục đăng ký khai sinh", "")
    assert ids(search.search("khai sinh"))[0] == BIRTH

    search.index("article", "a-hoa", "Hội chợ Tết tại thị trấn Thứa", "Gian hàng nông sản.")
    assert "a-hoa" not in ids(search.search("hội hoa xuân"))
    assert ids(search.search("hoi cho tet"))[0] == "a-hoa"
    # The earlier version's rows are gone from the store, not only outranked.
    assert search.db[POSTINGS].count_documents({"d": "article|a-hoa"}) == len(
        {"hoi", "cho", "tet", "tai", "thi", "tran", "thua", "gian", "hang", "nong", "san"}
    )
    search.remove("article", "never-indexed")  # nothing to forget is not an error
    index_corpus(search)


def test_bad_input_is_refused_or_empty(search: StoreSearch) -> None:
    with pytest.raises(ValueError, match="kind"):
        search.index("page", "x", "Trang", "")
    with pytest.raises(ValueError, match="kind"):
        search.search("khai sinh", kinds=["page"])
    assert search.search("") == [] and search.search(" ;,. ") == []


def test_a_term_lookup_is_answered_by_the_index(search: StoreSearch) -> None:
    base = store_index.SEQ_BASE
    query = {"k": "procedure|sinh", "r": {"$gte": base + 1, "$lte": store_index.SEQ_TOP}}
    assert uses_index(search.db, POSTINGS, query), plan(search.db, POSTINGS, query)


def test_the_documents_a_query_reads_stay_bounded_as_the_corpus_grows(
    mongo_db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.ensure_indexes(mongo_db)
    search = StoreSearch(mongo_db)
    # Small windows and cap, so that a few hundred documents are already "large".
    monkeypatch.setattr(store_index, "FIRST_WINDOW", 16)
    monkeypatch.setattr(store_index, "MAX_ROWS_PER_TERM", 40)

    def cost(query: str) -> ReadStats:
        stats = ReadStats()
        search._sequences.clear()
        assert search.search(query, kinds=["article"], stats=stats)
        return stats

    def add_articles(start: int, count: int) -> None:
        for n in range(start, start + count):
            # Every one holds the query's common words; only the first ones its rare one.
            rare = " khai sinh" if n < 3 else ""
            search.index("article", f"f-{n}", f"Thông báo đăng ký lịch tiếp công dân số {n}{rare}", "")

    add_articles(0, 60)
    small = cost("dang ky khai sinh")
    add_articles(60, 240)
    large = cost("dang ky khai sinh")
    assert large.documents <= 2 * 4 * store_index.MAX_ROWS_PER_TERM  # about twice the cap per word
    assert large.documents < 300  # the common words are in every one of the 300 articles
    assert large.queries <= small.queries + 4 * 2  # a doubling of the windows per word, at most two
    # The rare word's documents are still found, the oldest ones among them.
    assert set(ids(search.search("khai sinh", kinds=["article"]))) >= {"f-0", "f-1", "f-2"}
