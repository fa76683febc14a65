"""Signed results: signing with a unit certificate from the development CA, and checking it."""

import datetime as dt
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfWriter

from devstack.certificates import (
    Unit,
    ensure_ca,
    ensure_unit_certificate,
    ensure_unit_certificates,
    resolving_units,
)
from devstack.run import Endpoints, ports_from_env, service_env
from eventkit.config import ConfigError
from eventkit.signing import (
    Signer,
    SigningError,
    SigningUnavailable,
    load_trust_roots,
    load_unit_signer,
    result_reason,
    sign_pdf,
    sign_result,
    signing_location,
    verify_pdf,
    verify_result,
)
from processing.config import load_config

UNIT_CODE = "09499"
UNIT_NAME = "Ủy ban nhân dân xã An Thịnh"
SIGNED_AT = dt.datetime(2026, 11, 20, 8, 15, tzinfo=dt.UTC)


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("signing")
    ensure_unit_certificate(directory, UNIT_CODE, UNIT_NAME)
    return directory


@pytest.fixture(scope="module")
def signed(certs: Path) -> bytes:
    return sign_pdf(
        blank_pdf(),
        load_unit_signer(certs, UNIT_CODE),
        reason=result_reason("000.00.21.H06-261120-0001"),
        location=signing_location("xã An Thịnh, huyện Lương Tài, tỉnh Bắc Ninh"),
        signed_at=SIGNED_AT,
    )


def test_a_signed_result_verifies_against_the_ca_and_names_the_unit(certs: Path, signed: bytes) -> None:
    result = verify_pdf(signed, load_trust_roots(certs))

    assert (result.intact, result.valid, result.trusted, result.covers_whole_file) == (True, True, True, True)
    assert result.ok
    assert result.unit_code == UNIT_CODE
    assert result.signer_name == UNIT_NAME
    assert UNIT_NAME in (result.signer_subject or "")
    assert result.signing_time == SIGNED_AT


def test_a_result_is_signed_by_its_unit_with_the_dossier_code(certs: Path) -> None:
    signed = sign_result(
        blank_pdf(),
        certs,
        unit_code=UNIT_CODE,
        unit_address="xã An Thịnh, huyện Lương Tài, tỉnh Bắc Ninh",
        dossier_code="000.00.21.H06-261120-0002",
    )

    result = verify_result(signed, certs)
    assert result.ok and result.unit_code == UNIT_CODE
    (signature,) = PdfFileReader(BytesIO(signed)).embedded_regular_signatures
    assert signature.sig_object["/Reason"] == "Ký kết quả giải quyết hồ sơ 000.00.21.H06-261120-0002"


def test_the_signature_carries_the_reason_and_place_in_vietnamese(signed: bytes) -> None:
    (signature,) = PdfFileReader(BytesIO(signed)).embedded_regular_signatures
    assert signature.sig_object["/Reason"] == "Ký kết quả giải quyết hồ sơ 000.00.21.H06-261120-0001"
    assert signature.sig_object["/Location"] == "Lương Tài, Bắc Ninh"


def test_a_byte_changed_after_signing_breaks_the_signature(certs: Path, signed: bytes) -> None:
    # A byte of the original page, well inside the signed range.
    position = signed.index(b"/MediaBox")
    tampered = signed[:position] + b"/MediaBoy" + signed[position + len(b"/MediaBox") :]

    result = verify_pdf(tampered, load_trust_roots(certs))

    assert not result.intact
    assert not result.ok


def test_bytes_added_after_signing_are_not_covered(certs: Path, signed: bytes) -> None:
    result = verify_pdf(signed + b"\n% appended\n", load_trust_roots(certs))

    assert not result.covers_whole_file
    assert not result.ok


def test_a_certificate_from_another_ca_is_not_trusted(
    certs: Path, signed: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = tmp_path_factory.mktemp("other-ca")
    ensure_ca(other)

    result = verify_pdf(signed, load_trust_roots(other))

    assert result.intact and result.valid
    assert not result.trusted
    assert not result.ok


def test_an_unsigned_pdf_says_it_has_no_signature(certs: Path) -> None:
    result = verify_pdf(blank_pdf(), load_trust_roots(certs))

    assert not result.ok
    assert result.problem == "Tệp không có chữ ký số kết quả giải quyết."


def test_what_is_not_a_pdf_cannot_be_signed(certs: Path) -> None:
    with pytest.raises(SigningError):
        sign_pdf(b"not a pdf", load_unit_signer(certs, UNIT_CODE), reason="x", location="y")


def test_a_signed_result_is_not_signed_twice(certs: Path, signed: bytes) -> None:
    with pytest.raises(SigningError):
        sign_pdf(signed, load_unit_signer(certs, UNIT_CODE), reason="x", location="y")


def test_signing_time_needs_a_time_zone(certs: Path) -> None:
    with pytest.raises(ValueError):
        sign_pdf(
            blank_pdf(),
            load_unit_signer(certs, UNIT_CODE),
            reason="x",
            location="y",
            signed_at=dt.datetime(2026, 11, 20, 8, 15),
        )


def test_the_signer_loader_names_missing_files(tmp_path: Path) -> None:
    with pytest.raises(SigningUnavailable, match="key.pem"):
        Signer.from_pem_files(tmp_path / "key.pem", tmp_path / "cert.pem")


def test_a_certificate_issued_by_the_root_itself_needs_no_chain(certs: Path, tmp_path: Path) -> None:
    mine = certs / "units" / UNIT_CODE
    (tmp_path / "chain.pem").write_text("")

    signer = Signer.from_pem_files(mine / "key.pem", mine / "cert.pem", tmp_path / "chain.pem")

    assert signer.chain == () and signer.unit_code == UNIT_CODE
    assert verify_pdf(sign_pdf(blank_pdf(), signer, reason="x", location="y"), load_trust_roots(certs)).ok


def test_a_file_that_is_not_a_key_is_refused(certs: Path, tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text("not a key")

    with pytest.raises(SigningUnavailable, match="Không đọc được"):
        Signer.from_pem_files(tmp_path / "key.pem", certs / "units" / UNIT_CODE / "cert.pem")


def test_a_key_that_is_not_the_certificates_is_refused(certs: Path, tmp_path: Path) -> None:
    other = ensure_unit_certificate(tmp_path, "09502", "Ủy ban nhân dân xã Trung Kênh")
    mine = certs / "units" / UNIT_CODE

    with pytest.raises(SigningUnavailable, match="không khớp"):
        Signer.from_pem_files(other / "key.pem", mine / "cert.pem")


@pytest.mark.parametrize(
    ("certs_dir", "unit_code", "message"),
    [
        (None, UNIT_CODE, "SIGNING_CERTS_DIR"),
        ("certs", "99999", "Đơn vị 99999 chưa có chứng thư số"),
        ("certs", "../units", "Mã đơn vị không hợp lệ"),
    ],
)
def test_without_a_certificate_signing_is_unavailable(
    certs: Path, certs_dir: str | None, unit_code: str, message: str
) -> None:
    with pytest.raises(SigningUnavailable, match=message) as caught:
        load_unit_signer(certs if certs_dir else None, unit_code)
    assert caught.value.status == 503


@pytest.mark.parametrize(
    ("address", "location"),
    [
        ("xã An Thịnh, huyện Lương Tài, tỉnh Bắc Ninh", "Lương Tài, Bắc Ninh"),
        ("thị trấn Thứa, huyện Lương Tài, tỉnh Bắc Ninh", "Lương Tài, Bắc Ninh"),
        ("tỉnh Bắc Ninh", "Bắc Ninh"),
    ],
)
def test_the_place_of_signing_is_district_and_province(address: str, location: str) -> None:
    assert signing_location(address) == location


def test_certificates_are_made_once(tmp_path: Path) -> None:
    units = [Unit(UNIT_CODE, UNIT_NAME), Unit("264.TP", "Phòng Tư pháp huyện Lương Tài")]
    ensure_unit_certificates(tmp_path, units)
    before = {path: path.read_bytes() for path in tmp_path.rglob("*.pem")}

    ensure_unit_certificates(tmp_path, units)

    assert {path: path.read_bytes() for path in tmp_path.rglob("*.pem")} == before
    assert len(before) == 2 + 3 * len(units)


def test_a_new_ca_reissues_the_unit_certificates(tmp_path: Path) -> None:
    unit_dir = ensure_unit_certificate(tmp_path, UNIT_CODE, UNIT_NAME)
    first = (unit_dir / "cert.pem").read_bytes()
    (tmp_path / "ca.pem").unlink()

    ensure_unit_certificate(tmp_path, UNIT_CODE, UNIT_NAME)

    assert (unit_dir / "cert.pem").read_bytes() != first
    signed = sign_pdf(blank_pdf(), load_unit_signer(tmp_path, UNIT_CODE), reason="x", location="y")
    assert verify_pdf(signed, load_trust_roots(tmp_path)).ok


def test_the_seed_resolving_units_get_certificates() -> None:
    units = {unit.code: unit.name for unit in resolving_units()}

    assert units["09499"] == UNIT_NAME
    assert "264.TP" in units
    assert "264.MC" not in units  # the one-stop counter receives, it does not resolve


def test_a_name_too_long_for_a_common_name_is_the_organisation(tmp_path: Path) -> None:
    # 54 characters, 71 bytes of UTF-8: more than a common name holds.
    name = "Phòng Lao động – Thương binh và Xã hội huyện Lương Tài"
    ensure_unit_certificate(tmp_path, "264.LDTBXH", name, "Phòng Lao động – Thương binh và Xã hội")
    signed = sign_pdf(blank_pdf(), load_unit_signer(tmp_path, "264.LDTBXH"), reason="x", location="y")

    result = verify_pdf(signed, load_trust_roots(tmp_path))

    assert result.ok
    assert result.signer_name == name
    assert "CN=Phòng Lao động – Thương binh và Xã hội," in (result.signer_subject or "")
    with pytest.raises(ValueError, match="too long"):
        ensure_unit_certificate(tmp_path, "264.LDTBXH", name)


def test_private_keys_are_readable_by_their_owner_only(certs: Path) -> None:
    for key in [certs / "ca-key.pem", certs / "units" / UNIT_CODE / "key.pem"]:
        assert key.stat().st_mode & 0o077 == 0


def test_config_takes_the_certificates_directory(certs: Path) -> None:
    environ = {"MONGO_URL": "mongodb://127.0.0.1:1/", "SIGNING_CERTS_DIR": str(certs)}

    assert load_config(auth=False, environ=environ).signing_certs_dir == str(certs)
    assert load_config(auth=False, environ={"MONGO_URL": "mongodb://127.0.0.1:1/"}).signing_certs_dir is None


def test_config_refuses_a_missing_certificates_directory(tmp_path: Path) -> None:
    environ = {"MONGO_URL": "mongodb://127.0.0.1:1/", "SIGNING_CERTS_DIR": str(tmp_path / "missing")}

    with pytest.raises(ConfigError, match="SIGNING_CERTS_DIR"):
        load_config(auth=False, environ=environ)


def test_make_run_hands_the_certificates_to_processing(certs: Path, tmp_path: Path) -> None:
    endpoints = Endpoints("mongodb://127.0.0.1:1/", "127.0.0.1:1", "smtp://127.0.0.1:1", None)
    public_key = tmp_path / "jwt-public.pem"
    public_key.write_text("not read without auth")
    env = service_env(endpoints, ports_from_env({}), public_key, tmp_path, certs)

    assert load_config(auth=False, environ=env).signing_certs_dir == str(certs)
