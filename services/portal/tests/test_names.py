"""The applicant's name as the public lookup shows it."""

import unicodedata

import pytest

from portal.service.names import mask_name


@pytest.mark.parametrize(
    ("full_name", "masked"),
    [
        ("Nguyễn Văn An", "Nguyễn V*** A***"),
        ("Trần Thị Ngọc Ánh", "Trần T*** N*** Á***"),
        ("  Lê   Đức  ", "Lê Đ***"),
        ("Đặng Ư", "Đặng Ư***"),
        ("Hoa", "H***"),
        ("Công ty TNHH Ánh Dương", "Công t*** T*** Á*** D***"),
        ("", ""),
        ("   ", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_the_family_name_is_kept_and_each_other_word_shows_its_first_letter(full_name, masked):
    assert mask_name(full_name) == masked


def test_the_mask_does_not_tell_how_long_the_hidden_words_are():
    assert mask_name("Phạm Thị Hương") == mask_name("Phạm Thuỷ Hà") == "Phạm T*** H***"


def test_a_decomposed_name_comes_out_composed_nfc():
    typed = unicodedata.normalize("NFD", "Nguyễn Ánh Dương")
    assert typed != "Nguyễn Ánh Dương"
    masked = mask_name(typed)
    assert masked == "Nguyễn Á*** D***"
    assert unicodedata.is_normalized("NFC", masked)


def test_a_mark_nfc_cannot_compose_stays_with_its_letter():
    # "x" with a combining acute has no composed form: the initial keeps its mark.
    assert mask_name("Lý x\u0301uân") == "Lý x\u0301***"
