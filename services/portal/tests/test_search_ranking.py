"""The order of the documents a query's words met, from the rows the index returned."""

from __future__ import annotations

from typing import Any

from portal.search import ranking, text
from portal.search.store_index import postings


def rows(
    kind: str, id: str, seq: int, title: str, body: str = "", **fields: Any
) -> dict[str, dict[str, Any]]:
    """The document's rows by folded term, as the store holds them."""
    return {row["k"].split("|", 1)[1]: row for row in postings(kind, id, seq, title, body, fields)}


def rank(
    query: str, docs: list[dict[str, dict[str, Any]]], typos: dict[str, str] | None = None, **filters: Any
) -> list[str]:
    """Ids in ranked order; `typos` maps a query word to the indexed term its typo met."""
    words = list(dict.fromkeys(text.tokens(query)))
    matches = ranking.Matches(words)
    for position, word in enumerate(words):
        for doc in docs:
            if word.folded in doc:
                matches.add(position, doc[word.folded], typo=False)
            elif typos and word.folded in typos and typos[word.folded] in doc:
                matches.add(position, doc[typos[word.folded]], typo=True)
    return [hit.id for hit in matches.ranked(filters or None, 10)]


def test_all_words_rank_before_some() -> None:
    docs = [
        rows("article", "some", 2, "Đăng ký tạm trú"),
        rows("procedure", "all", 1, "Thủ tục đăng ký khai sinh"),
    ]
    assert rank("dang ky khai sinh", docs) == ["all", "some"]


def test_words_in_a_row_in_the_title_rank_before_scattered_ones() -> None:
    docs = [
        rows("article", "scattered", 2, "Khai mạc lễ hội, sinh hoạt cộng đồng"),
        rows("article", "phrase", 1, "Hướng dẫn khai sinh cho trẻ"),
    ]
    assert rank("khai sinh", docs) == ["phrase", "scattered"]


def test_the_diacritics_typed_rank_the_document_written_with_them_first() -> None:
    docs = [rows("article", "hoa", 2, "Hoa nở ở Lương Tài"), rows("article", "hoà", 1, "Hoà giải ở cơ sở")]
    assert rank("hòa", docs) == ["hoà", "hoa"]  # the other placement of the same tone
    assert rank("hoa", docs) == ["hoa", "hoà"]  # typed without marks: the newer first


def test_a_typo_match_ranks_after_an_exact_one() -> None:
    docs = [
        rows("procedure", "tinh", 2, "Đăng ký khai tinh"),
        rows("procedure", "sinh", 1, "Đăng ký khai sinh"),
    ]
    assert rank("khai sinh", docs, typos={"sinh": "tinh"}) == ["sinh", "tinh"]


def test_a_shorter_title_ranks_first_when_all_else_ties() -> None:
    docs = [
        rows("procedure", "long", 2, "Thủ tục đăng ký lại khai sinh"),
        rows("procedure", "short", 1, "Thủ tục đăng ký khai sinh"),
    ]
    assert rank("khai sinh", docs)[0] == "short"


def test_one_common_word_of_a_longer_query_is_not_a_match() -> None:
    docs = [rows("article", "one", 1, "Đăng ký tạm trú")]
    assert rank("dang ky khai sinh", docs) == ["one"]  # two of four: half is enough
    assert rank("dang khai sinh", docs) == []  # one of three is not


def test_filters_keep_the_documents_whose_fields_equal_them() -> None:
    docs = [
        rows("article", "a", 1, "Khai sinh", unit="xa-an-thinh", tags=["ho-tich"]),
        rows("article", "b", 2, "Khai sinh", unit="xa-lai-ha", tags=[]),
    ]
    assert rank("khai sinh", docs, unit="xa-an-thinh") == ["a"]
    assert rank("khai sinh", docs, tags="ho-tich") == ["a"]
    assert rank("khai sinh", docs, unit="khac") == []


def test_a_newer_version_of_a_document_replaces_the_rows_of_the_earlier() -> None:
    old, new = rows("article", "a", 1, "Khai sinh"), rows("article", "a", 2, "Kết hôn")
    words = text.tokens("khai")
    matches = ranking.Matches(words)
    matches.add(0, old["khai"], typo=False)
    matches.add(0, new["ket"], typo=False)  # (a row of the new version, met for another word)
    [doc] = matches.docs.values()
    assert doc.title == "Kết hôn" and doc.seq == new["ket"]["r"]
