"""Development signing certificates: a local CA and one certificate per unit that resolves or
receives dossiers.

`make run` keeps them under .local/signing and hands the directory to processing
(SIGNING_CERTS_DIR), which signs result PDFs with them; the layout is the one
`eventkit.signing` reads (processing signs results, notify its letters):

    ca.pem                      the CA certificate (the trust anchor for verifying results)
    ca-key.pem                  the CA key (development only: production has no CA here)
    units/<code>/key.pem        the unit's private key
    units/<code>/cert.pem       the unit's certificate
    units/<code>/chain.pem      its issuing chain (here the CA certificate)

Each `ensure_*` is idempotent: what exists and still fits is left as it is.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devstack.paths import LOCAL, ROOT

SIGNING = LOCAL / "signing"
SEED = ROOT / "services" / "processing" / "processing" / "seed"
CA_NAME = "Tổ chức chứng thực thử nghiệm MotCua"
CA_YEARS = 10
UNIT_YEARS = 3
# A certificate this close to its end is issued anew.
RENEW_BEFORE = dt.timedelta(days=30)


def ensure_ca(directory: Path) -> tuple[Path, Path]:
    """The CA's certificate and key paths, made on first use (or when the certificate ran out)."""
    cert_path, key_path = directory / "ca.pem", directory / "ca-key.pem"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if _fresh(cert) and _same_key(cert, _load_key(key_path)):
            return cert_path, key_path
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MotCua (môi trường phát triển)"),
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def ensure_unit_certificate(
    directory: Path, unit_code: str, unit_name: str, short_name: str | None = None
) -> Path:
    """The unit's folder (key.pem, cert.pem, chain.pem), issued by the CA in `directory`.

    A certificate is issued anew when it is missing, near its end, names the unit differently or
    was issued by another CA (the CA was made again); otherwise nothing is written.
    """
    if not unit_code or unit_code in (".", "..") or "/" in unit_code or "\\" in unit_code:
        raise ValueError(f"unit code cannot name a folder: {unit_code!r}")
    ca_cert_path, ca_key_path = ensure_ca(directory)
    ca_pem = ca_cert_path.read_bytes()
    ca_cert = x509.load_pem_x509_certificate(ca_pem)
    unit_dir = directory / "units" / unit_code
    cert_path, key_path, chain_path = unit_dir / "cert.pem", unit_dir / "key.pem", unit_dir / "chain.pem"
    subject = _unit_subject(unit_code, unit_name, short_name)
    if cert_path.exists() and key_path.exists() and chain_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if (
            cert.subject == subject
            and _fresh(cert)
            and _issued_by(cert, ca_cert)
            and _same_key(cert, _load_key(key_path))
            and chain_path.read_bytes() == ca_pem
        ):
            return unit_dir
    unit_dir.mkdir(parents=True, exist_ok=True)
    ca_key = _load_key(ca_key_path)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(min(now + dt.timedelta(days=365 * UNIT_YEARS), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    chain_path.write_bytes(ca_pem)
    return unit_dir


class Unit(NamedTuple):
    code: str
    name: str
    short_name: str | None = None


def resolving_units(seed: Path = SEED) -> list[Unit]:
    """Every unit that resolves a procedure in processing's seed catalogue."""
    units = {unit["code"]: unit for unit in json.loads((seed / "units.json").read_text("utf-8"))}
    procedures = json.loads((seed / "procedures.json").read_text("utf-8"))
    codes = sorted({code for procedure in procedures for code in procedure.get("resolving_units") or []})
    return [Unit(code, units[code]["name"], units[code].get("short_name")) for code in codes if code in units]


def signing_units(seed: Path = SEED) -> list[Unit]:
    """Every unit that signs something: the resolving units (results) and the receiving units
    (notify's letters: receipts, supplement requests, refusals)."""
    units = {unit["code"]: unit for unit in json.loads((seed / "units.json").read_text("utf-8"))}
    procedures = json.loads((seed / "procedures.json").read_text("utf-8"))
    codes = sorted(
        {
            code
            for procedure in procedures
            for code in [*(procedure.get("resolving_units") or []), *(procedure.get("receiving_units") or [])]
        }
    )
    return [Unit(code, units[code]["name"], units[code].get("short_name")) for code in codes if code in units]


def ensure_unit_certificates(directory: Path = SIGNING, units: Iterable[Unit] | None = None) -> Path:
    """The CA and a certificate for each unit, by default every signing unit of the seed."""
    ensure_ca(directory)
    for unit in signing_units() if units is None else units:
        ensure_unit_certificate(directory, unit.code, unit.name, unit.short_name)
    return directory


def _unit_subject(unit_code: str, unit_name: str, short_name: str | None) -> x509.Name:
    # The full name is the organisation (O). A common name holds at most 64 bytes of UTF-8 (about
    # 50 Vietnamese characters), so a longer name leaves CN to the unit's short name.
    common_name = unit_name if len(unit_name.encode()) <= 64 else short_name
    if not common_name or len(common_name.encode()) > 64:
        raise ValueError(f"unit {unit_code}: name too long for a certificate and no short name that fits")
    # The unit code rides in UID, where Vietnamese CAs put an organisation's identifier.
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, unit_name),
            x509.NameAttribute(NameOID.USER_ID, unit_code),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,  # nonRepudiation
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _fresh(cert: x509.Certificate) -> bool:
    return cert.not_valid_after_utc - RENEW_BEFORE > _now()


def _issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    if cert.issuer != ca_cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _same_key(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bool:
    return cert.public_key() == key.public_key()


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: not an EC private key")
    return key


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Readable by the owner only from the first byte on.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    path.chmod(0o600)
