"""The public signature check: is a PDF's signature intact, and does its signer chain up to the
trust roots the deployment configures (SIGNING_TRUST_ROOTS, a PEM file of CA certificates)?

Results and letters are signed by eventkit.signing (PAdES, one signature per document); any
signature in the file is checked, the last one deciding (it covers the most of the file). No
network is used: certificates are checked against the roots only, no CRL or OCSP is fetched.
The file is whatever a visitor uploads, so every parser error is an answer, never an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

PDF_MAGIC = b"%PDF-"

# What the check found, worst last; each a message the page shows.
VALID = "valid"
UNTRUSTED = "untrusted"
ALTERED = "altered"
UNSIGNED = "unsigned"
NOT_PDF = "not_pdf"

MESSAGES = {
    VALID: "Chữ ký số hợp lệ: tệp còn nguyên vẹn từ khi ký và chứng thư số của người ký do tổ chức "
    "chứng thực được tin cậy cấp.",
    UNTRUSTED: "Tệp còn nguyên vẹn từ khi ký, nhưng chứng thư số của người ký không do tổ chức chứng thực "
    "được tin cậy cấp: không xác nhận được đơn vị đã ký.",
    ALTERED: "Tệp đã bị thay đổi sau khi ký: chữ ký số không còn giá trị, nội dung có thể không phải của "
    "đơn vị đã ký.",
    UNSIGNED: "Tệp PDF này không có chữ ký số.",
    NOT_PDF: "Tệp gửi lên không phải là tệp PDF đọc được.",
}


@dataclass(frozen=True)
class Signer:
    organisation: str | None
    unit: str | None  # organisational unit (OU)
    common_name: str | None
    unit_code: str | None  # the unit's code, carried in UID by the certificates MotCua issues


@dataclass(frozen=True)
class CheckResult:
    outcome: str
    signer: Signer | None = None
    signed_at: dt.datetime | None = None
    signatures: int = 0

    @property
    def message(self) -> str:
        return MESSAGES[self.outcome]

    @property
    def ok(self) -> bool:
        return self.outcome == VALID


def load_trust_roots(path: str | Path) -> list[asn1_x509.Certificate]:
    """The CA certificates in the PEM file `path` (ValueError when it holds none that parse)."""
    certs = x509.load_pem_x509_certificates(Path(path).read_bytes())
    return [asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)) for cert in certs]


def is_pdf(data: bytes) -> bool:
    return data.startswith(PDF_MAGIC)


def check_pdf(data: bytes, trust_roots: list[asn1_x509.Certificate]) -> CheckResult:
    """What the signature of the PDF `data` says, checked against `trust_roots`."""
    if not is_pdf(data):
        return CheckResult(NOT_PDF)
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = list(reader.embedded_regular_signatures)
    except Exception:  # a hostile or broken file: pyHanko raises many kinds
        return CheckResult(NOT_PDF)
    if not signatures:
        return CheckResult(UNSIGNED)
    outcome, signer, signed_at = VALID, None, None
    for signature in signatures:
        context = ValidationContext(trust_roots=trust_roots, allow_fetching=False)
        try:
            status = validate_pdf_signature(signature, signer_validation_context=context)
        except Exception:  # a signature whose bytes no longer parse was changed too
            return CheckResult(ALTERED, signatures=len(signatures))
        signer, signed_at = _signer(status.signing_cert), status.signer_reported_dt
        if not (status.intact and status.valid):
            return CheckResult(ALTERED, signer, signed_at, len(signatures))
        if not status.trusted:
            outcome = UNTRUSTED
    # The last signature must cover the whole file: bytes added after it were not signed.
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return CheckResult(ALTERED, signer, signed_at, len(signatures))
    return CheckResult(outcome, signer, signed_at, len(signatures))


def _signer(cert: asn1_x509.Certificate | None) -> Signer | None:
    if cert is None:
        return None
    subject: dict[str, Any] = cert.subject.native

    def part(name: str) -> str | None:
        value = subject.get(name)
        if isinstance(value, list):  # an attribute given more than once
            value = ", ".join(str(v) for v in value)
        return str(value) if value else None

    return Signer(
        organisation=part("organization_name"),
        unit=part("organizational_unit_name"),
        common_name=part("common_name"),
        unit_code=part("user_id"),
    )
