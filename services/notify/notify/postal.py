"""Public postal service (Decision 45/2016/QĐ-TTg): item numbers, the daily manifest, and the
signature of the postal operator's status reports. Pure functions; the batches themselves are kept
by the store.

Item numbers follow UPU standard S10, as Vietnam Post's registered items do: a two-letter service
indicator, an eight-digit serial, a check digit and the country code ("RR473124829VN"). The
operator reports `despatched`, `delivered` or `returned` by POSTing JSON signed with a shared key:
header `X-Postal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. A report
older or newer than the tolerance is refused, so a captured report cannot be replayed later; one
replayed within it is refused by the store, which keeps each report's id once.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

SIGNATURE_HEADER = "X-Postal-Signature"
TOLERANCE_SECONDS = 300
COUNTRY = "VN"
# Registered letter ("R" + a second letter the operator assigns to the sender's contract).
SERVICE_INDICATOR = "RR"
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_ITEM = re.compile(r"^[A-Z]{2}\d{9}[A-Z]{2}$")
_SIGNATURE = re.compile(r"^t=(\d{1,12}),v1=([0-9a-f]{64})$")
MANIFEST_COLUMNS = ("item_number", "register_number", "recipient", "address", "letter_id", "form")


class BadSignature(Exception):
    """The report is not signed with the shared key, or not within the tolerance of now."""


def check_digit(serial: str) -> int:
    """S10's check digit of an eight-digit serial."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError("an S10 serial has eight digits")
    remainder = sum(int(d) * w for d, w in zip(serial, _WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(11 - remainder, 11 - remainder)


def item_number(sequence: int, indicator: str = SERVICE_INDICATOR, country: str = COUNTRY) -> str:
    """The S10 item number of the `sequence`-th registered letter (1 to 99,999,999)."""
    if not 1 <= sequence <= 99_999_999:
        raise ValueError("an S10 serial runs from 1 to 99,999,999")
    serial = f"{sequence:08d}"
    return f"{indicator}{serial}{check_digit(serial)}{country}"


def valid_item_number(value: str) -> bool:
    return bool(_ITEM.match(value)) and check_digit(value[2:10]) == int(value[10])


def sign_report(body: bytes, key: bytes, timestamp: int) -> str:
    """The signature header's value for `body` sent at `timestamp` (what the operator computes)."""
    mac = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_report(
    header: str | None, body: bytes, key: bytes, now: int, tolerance: int = TOLERANCE_SECONDS
) -> int:
    """The report's timestamp if `header` signs `body` with `key` within `tolerance` of `now`."""
    match = _SIGNATURE.match(header or "")
    if match is None:
        raise BadSignature("Thiếu chữ ký hoặc chữ ký sai định dạng.")
    timestamp = int(match.group(1))
    expected = sign_report(body, key, timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, match.group(2)):
        raise BadSignature("Chữ ký không khớp.")
    if abs(now - timestamp) > tolerance:
        raise BadSignature("Báo cáo đã quá hạn hoặc ghi thời gian sai.")
    return timestamp


@dataclass(frozen=True)
class ManifestRow:
    item_number: str
    register_number: str
    recipient: str
    address: str
    letter_id: str
    form: str


def manifest_csv(rows: Iterable[ManifestRow]) -> bytes:
    """The batch's manifest: UTF-8 with a byte-order mark, so spreadsheet programs read the
    Vietnamese names right; one row per letter, in the batch's order."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MANIFEST_COLUMNS)
    for row in rows:
        writer.writerow([getattr(row, column) for column in MANIFEST_COLUMNS])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")
