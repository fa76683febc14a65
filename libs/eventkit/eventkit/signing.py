"""Signed PDFs: a dossier's result (processing) and the official letters (notify) carry a PAdES
signature made with the issuing unit's certificate, so that anyone holding the file can check who
issued it and that it is unchanged.

PAdES B-B (no time-stamp authority is reachable here): the signing time is the one the signer
claims. The signature is invisible, in one fixed field per kind of document (a result's is
FIELD_NAME; a caller signing another kind names its own). Keys and certificates are PEM files in
the directory SIGNING_CERTS_DIR names (made by `make run` for development, tools/devstack/
certificates.py):

    ca.pem                      trust anchors for verifying results
    units/<code>/key.pem        the unit's private key
    units/<code>/cert.pem       the unit's certificate
    units/<code>/chain.pem      the certificates between it and a trust anchor (may be empty)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from eventkit.errors import DomainError

FIELD_NAME = "KetQuaGiaiQuyet"
TRUST_ROOTS_FILE = "ca.pem"
UNITS_DIR = "units"
_SAFE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Administrative-level words an address names its parts with ("xã An Thịnh, huyện Lương Tài").
_LEVEL_PREFIX = re.compile(r"^(?:thị trấn|thành phố|thị xã|phường|xã|huyện|quận|tỉnh)\s+", re.IGNORECASE)


class SigningUnavailable(DomainError):
    """No key or certificate to sign with: a deployment's setting, not the request's fault."""

    status = 503


class SigningError(DomainError):
    """The PDF given cannot be signed (unreadable, or its result is already signed)."""

    status = 422


@dataclass(frozen=True)
class Signer:
    """A unit's private key, its certificate and the chain up to (not always including) the root."""

    key: asn1_keys.PrivateKeyInfo
    certificate: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...] = ()

    @classmethod
    def from_pem_files(
        cls, key_path: str | Path, cert_path: str | Path, chain_path: str | Path | None = None
    ) -> Signer:
        key_path, cert_path = Path(key_path), Path(cert_path)
        chain_path = Path(chain_path) if chain_path else None
        paths = [key_path, cert_path, *([chain_path] if chain_path else [])]
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            raise SigningUnavailable(
                f"Không tìm thấy tệp khóa hoặc chứng thư số để ký: {', '.join(missing)}."
            )
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            certs = x509.load_pem_x509_certificates(cert_path.read_bytes())
            chain_pem = chain_path.read_bytes() if chain_path else b""
            chain = x509.load_pem_x509_certificates(chain_pem) if chain_pem.strip() else []
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SigningUnavailable(f"Không đọc được khóa hoặc chứng thư số để ký: {exc}.") from exc
        if len(certs) != 1:
            raise SigningUnavailable(f"Tệp chứng thư số phải chứa đúng một chứng thư: {cert_path}.")
        if certs[0].public_key() != key.public_key():
            raise SigningUnavailable(f"Khóa {key_path} không khớp với chứng thư số {cert_path}.")
        return cls(
            key=asn1_keys.PrivateKeyInfo.load(
                key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            ),
            certificate=_asn1(certs[0]),
            chain=tuple(_asn1(cert) for cert in chain),
        )

    @property
    def unit_code(self) -> str | None:
        return _unit_code(self.certificate)

    @property
    def name(self) -> str | None:
        return _unit_name(self.certificate)


@dataclass(frozen=True)
class VerificationResult:
    intact: bool  # the signed bytes are those that were signed
    valid: bool  # the signature over them checks out with the signer's public key
    trusted: bool  # the signer's certificate chains up to one of the trust anchors
    covers_whole_file: bool  # nothing was added to the file after signing
    signer_subject: str | None = None  # RFC 4514 form of the certificate's subject
    signer_name: str | None = None  # the unit's name (the subject's organisation, else its CN)
    unit_code: str | None = None
    signing_time: dt.datetime | None = None  # claimed by the signer (no time-stamp in B-B)
    problem: str | None = None  # why nothing could be checked, for a person to read

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.covers_whole_file


def load_unit_signer(certs_dir: str | Path | None, unit_code: str) -> Signer:
    """The signer of `unit_code` from SIGNING_CERTS_DIR; SigningUnavailable says what is missing."""
    if not certs_dir:
        raise SigningUnavailable("Chưa cấu hình chứng thư số để ký kết quả (SIGNING_CERTS_DIR).")
    if not _SAFE_CODE.fullmatch(unit_code):
        raise SigningUnavailable(f"Mã đơn vị không hợp lệ để tìm chứng thư số: {unit_code!r}.")
    unit_dir = Path(certs_dir) / UNITS_DIR / unit_code
    if not unit_dir.is_dir():
        raise SigningUnavailable(f"Đơn vị {unit_code} chưa có chứng thư số để ký kết quả.")
    chain = unit_dir / "chain.pem"
    return Signer.from_pem_files(
        unit_dir / "key.pem", unit_dir / "cert.pem", chain if chain.exists() else None
    )


def load_trust_roots(certs_dir: str | Path) -> list[asn1_x509.Certificate]:
    path = Path(certs_dir) / TRUST_ROOTS_FILE
    if not path.is_file():
        raise SigningUnavailable(f"Không tìm thấy chứng thư gốc để kiểm tra chữ ký: {path}.")
    try:
        return [_asn1(cert) for cert in x509.load_pem_x509_certificates(path.read_bytes())]
    except ValueError as exc:
        raise SigningUnavailable(f"Không đọc được chứng thư gốc để kiểm tra chữ ký: {path}.") from exc


def result_reason(dossier_code: str) -> str:
    return f"Ký kết quả giải quyết hồ sơ {dossier_code}"


def signing_location(address: str) -> str:
    """The place of signing from a unit's address: its last two parts (district and province)
    without their level words ("xã An Thịnh, huyện Lương Tài, tỉnh Bắc Ninh": "Lương Tài, Bắc Ninh")."""
    parts = [_LEVEL_PREFIX.sub("", part.strip()) for part in address.split(",") if part.strip()]
    return ", ".join(parts[-2:])


def sign_pdf(
    pdf_bytes: bytes,
    signer: Signer,
    *,
    reason: str,
    location: str,
    signed_at: dt.datetime | None = None,
    field_name: str = FIELD_NAME,
) -> bytes:
    """`pdf_bytes` with a PAdES B-B signature by `signer` in the invisible field `field_name`,
    appended as an incremental update."""
    if signed_at is not None and signed_at.tzinfo is None:
        raise ValueError("signed_at must carry a time zone")
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes))
    except Exception as exc:  # pyHanko raises several kinds for a file that is not a PDF
        raise SigningError("Tệp kết quả không phải là PDF đọc được.") from exc
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        name=signer.name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    cms_signer = signers.SimpleSigner(
        signing_cert=signer.certificate,
        signing_key=signer.key,
        # pyhanko-certvalidator leaves this constructor unannotated.
        cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
            [signer.certificate, *signer.chain]
        ),
    )
    pdf_signer = _PdfSigner(
        meta,
        cms_signer,
        new_field_spec=fields.SigFieldSpec(field_name),
        signing_time=signed_at or dt.datetime.now(dt.UTC),
    )
    output = BytesIO()
    try:
        pdf_signer.sign_pdf(writer, output=output)
    except PyHankoSigningError as exc:
        raise SigningError(f"Không ký được tệp kết quả: {exc}") from exc
    return output.getvalue()


def verify_pdf(
    pdf_bytes: bytes, trust_roots: list[asn1_x509.Certificate], *, field_name: str = FIELD_NAME
) -> VerificationResult:
    """Check the signature in `field_name` against `trust_roots` only (no network: no fetching of
    CRLs)."""
    try:
        reader = PdfFileReader(BytesIO(pdf_bytes))
        signatures = [s for s in reader.embedded_regular_signatures if s.field_name == field_name]
    except Exception:  # a file changed enough no longer parses as a PDF
        return _unchecked("Tệp không đọc được như một tệp PDF.")
    if not signatures:
        return _unchecked(
            "Tệp không có chữ ký số kết quả giải quyết."
            if field_name == FIELD_NAME
            else "Tệp không có chữ ký số của đơn vị."
        )
    context = ValidationContext(trust_roots=trust_roots, allow_fetching=False)
    try:
        status = validate_pdf_signature(signatures[0], signer_validation_context=context)
    except Exception:
        return _unchecked("Chữ ký số trong tệp bị hỏng, không kiểm tra được.")
    cert = status.signing_cert
    return VerificationResult(
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer_subject=_rfc4514(cert),
        signer_name=_unit_name(cert),
        unit_code=_unit_code(cert),
        signing_time=status.signer_reported_dt,
    )


def sign_result(
    pdf_bytes: bytes,
    certs_dir: str | Path | None,
    *,
    unit_code: str,
    unit_address: str,
    dossier_code: str,
    signed_at: dt.datetime | None = None,
) -> bytes:
    """A dossier's result signed by its resolving unit, with the reason and place it calls for."""
    return sign_pdf(
        pdf_bytes,
        load_unit_signer(certs_dir, unit_code),
        reason=result_reason(dossier_code),
        location=signing_location(unit_address),
        signed_at=signed_at,
    )


def verify_result(pdf_bytes: bytes, certs_dir: str | Path) -> VerificationResult:
    """`verify_pdf` against the trust anchors kept with the signing certificates."""
    return verify_pdf(pdf_bytes, load_trust_roots(certs_dir))


class _PdfSigner(signers.PdfSigner):
    """pyHanko's signer with the signing time (the signature's /M) chosen by the caller."""

    def __init__(self, *args: Any, signing_time: dt.datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signing_time = signing_time

    def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._signing_time
        return session


def _unchecked(problem: str) -> VerificationResult:
    return VerificationResult(
        intact=False, valid=False, trusted=False, covers_whole_file=False, problem=problem
    )


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _unit_name(cert: asn1_x509.Certificate) -> str | None:
    subject: dict[str, Any] = cert.subject.native
    name = subject.get("organization_name") or subject.get("common_name")
    return str(name) if name else None


def _unit_code(cert: asn1_x509.Certificate) -> str | None:
    code = cert.subject.native.get("user_id")
    return str(code) if code else None


def _rfc4514(cert: asn1_x509.Certificate) -> str:
    return x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()
