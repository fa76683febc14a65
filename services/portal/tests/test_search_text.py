"""Vietnamese words as search terms: case, diacritics, tone-mark placement and one-letter typos."""

from __future__ import annotations

import unicodedata

import pytest

from portal.search import text
from portal.search.text import Token


def folded(value: str) -> list[str]:
    return [token.folded for token in text.tokens(value)]


def exact(value: str) -> list[str]:
    return [token.exact for token in text.tokens(value)]


@pytest.mark.parametrize(
    "typed", ["khai sinh", "dang ky khai sinh", "ĐĂNG KÝ KHAI SINH", "Đăng ký khai sinh"]
)
def test_every_way_of_typing_folds_to_the_terms_of_the_title(typed: str) -> None:
    title = folded("Đăng ký khai sinh")
    assert title == ["dang", "ky", "khai", "sinh"]
    assert set(folded(typed)) <= set(title)


def test_capitals_keep_their_diacritics_in_the_exact_form() -> None:
    assert exact("ĐĂNG KÝ KHAI SINH") == exact("Đăng ký khai sinh")
    # The tone mark is kept apart from the letters, after them: "ký" is "ky" and an acute.
    assert exact("ĐĂNG KÝ") == ["đăng", "ky\u0301"]


def test_d_with_stroke_folds_to_d_in_either_case() -> None:
    assert folded("Đ đ Đà Nẵng ĐỊNH") == ["d", "d", "da", "nang", "dinh"]
    assert exact("Đ") == ["đ"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hoà", "hòa"),
        ("Hoà Bình", "Hòa Bình"),
        ("thuỷ", "thủy"),
        ("khoẻ", "khỏe"),
        ("qúy", "quý"),
        ("toà án", "tòa án"),
    ],
)
def test_both_tone_mark_placements_are_one_exact_term(old: str, new: str) -> None:
    assert exact(old) == exact(new)
    assert folded(old) == folded(new)


def test_tone_and_vowel_marks_still_tell_words_apart_in_the_exact_form() -> None:
    # Same letters, different words: only the folded forms meet.
    forms = {text.exact_form(word) for word in ["hoà", "hóa", "hoa", "hỏa"]}
    assert len(forms) == 4
    assert {text.folded_form(word) for word in ["hoà", "hóa", "hoa", "hỏa"]} == {"hoa"}
    assert text.exact_form("thư") != text.exact_form("thu") and text.folded_form("thư") == "thu"


def test_decomposed_input_gives_the_same_terms_as_composed() -> None:
    composed = "Nghị định về đăng ký hộ tịch"
    assert text.tokens(unicodedata.normalize("NFD", composed)) == text.tokens(composed)


def test_words_split_on_punctuation_and_keep_numbers() -> None:
    assert folded("Nghị định 123/2015/NĐ-CP; (Điều 11, 16)") == [
        "nghi",
        "dinh",
        "123",
        "2015",
        "nd",
        "cp",
        "dieu",
        "11",
        "16",
    ]
    assert text.tokens("  ,.;  ") == []


def test_a_word_typed_without_diacritics_has_no_marks() -> None:
    assert Token("khai", "khai").has_marks is False
    assert text.tokens("Đăng")[0].has_marks and not text.tokens("dang")[0].has_marks


@pytest.mark.parametrize(
    ("typed", "indexed"),
    [
        ("sonh", "sinh"),
        ("sinhh", "sinh"),
        ("sih", "sinh"),
        ("snih", "sinh"),
        ("kahi", "khai"),
        ("dnag", "dang"),
    ],
    ids=["substitution", "insertion", "deletion", "transposition", "transposition-2", "transposition-3"],
)
def test_a_one_letter_typo_meets_the_term_through_its_neighbourhood(typed: str, indexed: str) -> None:
    assert text.within_one_edit(typed, indexed)
    assert text.neighbour_keys(typed) & text.neighbour_keys(indexed)


@pytest.mark.parametrize(("typed", "indexed"), [("sonk", "sinh"), ("khoi", "kha"), ("nisi", "sinh")])
def test_two_edits_are_not_a_typo(typed: str, indexed: str) -> None:
    assert not text.within_one_edit(typed, indexed)


def test_short_words_and_numbers_are_matched_only_as_typed() -> None:
    assert text.neighbour_keys("ky") == {"ky"}
    assert text.neighbour_keys("2015") == {"2015"}
    assert text.neighbour_keys("sinh") == {"sinh", "inh", "snh", "sih", "sin"}
