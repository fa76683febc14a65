"""Postal item numbers (UPU S10), the batch manifest and the operator's signed reports."""

from __future__ import annotations

import csv
import io

import pytest

from notify import postal

KEY = b"khoa-chung-voi-buu-dien"


def test_check_digits_follow_s10():
    # The standard's worked example: serial 47312482 has check digit 9.
    assert postal.check_digit("47312482") == 9
    assert postal.check_digit("00000001") == 4  # 7 = 7 (mod 11): 11 - 7
    # 11 - remainder is 10 or 11 for remainders 1 and 0: those map to 0 and 5.
    assert postal.check_digit("00000008") == 0  # 56 = 1 (mod 11)
    assert postal.check_digit("00000000") == 5
    assert {postal.check_digit(f"{n:08d}") for n in range(1, 2000)} == set(range(10))
    with pytest.raises(ValueError):
        postal.check_digit("1234567")


def test_item_numbers_are_s10_and_a_wrong_digit_is_caught():
    number = postal.item_number(47312482)
    assert number == "RR473124829VN" and postal.valid_item_number(number)
    assert not postal.valid_item_number("RR473124828VN"), "one digit changed"
    assert not postal.valid_item_number("RR47312482VN")
    assert postal.item_number(1) == "RR000000014VN"
    with pytest.raises(ValueError):
        postal.item_number(0)


def test_a_signed_report_verifies_and_a_tampered_stale_or_foreign_one_does_not():
    body = b'{"id": "r-1", "letter": "L-1", "status": "delivered"}'
    header = postal.sign_report(body, KEY, 1_764_720_000)
    assert postal.verify_report(header, body, KEY, now=1_764_720_100) == 1_764_720_000
    for bad_header, bad_body, key, now in (
        (header, body.replace(b"delivered", b"returned"), KEY, 1_764_720_100),
        (header, body, b"another key", 1_764_720_100),
        (header, body, KEY, 1_764_720_000 + postal.TOLERANCE_SECONDS + 1),
        (header, body, KEY, 1_764_720_000 - postal.TOLERANCE_SECONDS - 1),
        (None, body, KEY, 1_764_720_100),
        ("t=1764720000,v1=abc", body, KEY, 1_764_720_100),
        (header.replace("t=1764720000", "t=1764720050"), body, KEY, 1_764_720_100),
    ):
        with pytest.raises(postal.BadSignature):
            postal.verify_report(bad_header, bad_body, key, now=now)


def test_the_manifest_keeps_vietnamese_and_every_letter_in_order():
    rows = [
        postal.ManifestRow(postal.item_number(n), f"{n}/TB-UBND", name, address, f"L-{n}", "mau-02")
        for n, name, address in (
            (1, "Nguyễn Thị Hoa", "Thôn Ngọc Quan, xã Lâm Thao, huyện Lương Tài"),
            (2, 'Trần Văn "Nam", con', "Khu 1, thị trấn Thứa\nhuyện Lương Tài"),
        )
    ]
    data = postal.manifest_csv(rows)
    assert data.startswith("\ufeff".encode())
    read = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r["recipient"] for r in read] == ["Nguyễn Thị Hoa", 'Trần Văn "Nam", con']
    assert read[1]["address"] == "Khu 1, thị trấn Thứa\nhuyện Lương Tài"
    assert [r["item_number"] for r in read] == ["RR000000014VN", postal.item_number(2)]
    assert list(read[0]) == list(postal.MANIFEST_COLUMNS)
