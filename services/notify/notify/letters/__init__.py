"""Official letters: the six forms of Circular 01/2018/TT-VPCP as PDF, signed by the issuing unit.

Pure functions (no store, no Kafka): the pipeline builds a letter's data from its copy of the
dossier events, calls `render_letter`, then `sign_letter`, and records the template id and
version with the letter (`Rendered.template_id` / `.version`, also in the PDF's Subject).
A `LetterDataError` names the field that is missing or invalid; `UnknownTemplate` a template id
or version that does not exist. `schema(template_id, version)` lists the fields a form needs,
each with its type, whether it is required and a description (the template files under
`templates/<version>/` are the schema; docs/architecture.md "Letters" sums them up).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eventkit import signing
from notify.letters.data import LetterDataError, validate
from notify.letters.registry import (
    DEFAULT_VERSION,
    Template,
    UnknownTemplate,
    get_template,
    templates,
    versions,
)
from notify.letters.render import Rendered, render

# The letters' own signature field: a result's (processing) is eventkit.signing.FIELD_NAME.
SIGNATURE_FIELD = "VanBanMotCua"

__all__ = [
    "DEFAULT_VERSION",
    "SIGNATURE_FIELD",
    "LetterDataError",
    "Rendered",
    "Template",
    "UnknownTemplate",
    "get_template",
    "letter_reason",
    "render_letter",
    "render_letter_full",
    "schema",
    "sign_letter",
    "templates",
    "verify_letter",
    "versions",
]


def render_letter(template_id: str, version: str, data: Mapping[str, Any]) -> bytes:
    """The PDF of form `template_id` in `version` filled with `data`."""
    return render_letter_full(template_id, version, data).pdf


def render_letter_full(template_id: str, version: str, data: Mapping[str, Any]) -> Rendered:
    """As render_letter, with what was drawn: the lines of text, the page count, the template."""
    template = get_template(template_id, version)
    return render(template, validate(template.key, template.fields, data))


def schema(template_id: str, version: str = DEFAULT_VERSION) -> dict[str, dict[str, Any]]:
    """The fields form `template_id` needs: dotted path → {type, required, label, ...}."""
    return {path: dict(spec) for path, spec in get_template(template_id, version).fields.items()}


def letter_reason(template_id: str, version: str, dossier_code: str | None = None) -> str:
    """The signature's reason: "Ký Giấy tiếp nhận hồ sơ và hẹn trả kết quả, hồ sơ <code>"."""
    name = get_template(template_id, version).name
    title = name[:1] + name[1:].lower()
    return f"Ký {title}, hồ sơ {dossier_code}" if dossier_code else f"Ký {title}"


def sign_letter(
    pdf_bytes: bytes,
    unit_code: str,
    certs_dir: str | Path | None,
    *,
    reason: str = "Ký văn bản của đơn vị",
    location: str = "",
    signed_at: dt.datetime | None = None,
) -> bytes:
    """`pdf_bytes` signed (PAdES B-B, invisible field SIGNATURE_FIELD) with the certificate of
    `unit_code` under `certs_dir` (layout in eventkit.signing), as processing signs results.
    `reason` is usually letter_reason(...), `location` eventkit.signing.signing_location(the
    unit's address).
    Raises signing.SigningUnavailable (no certificate) or signing.SigningError (not a PDF)."""
    return signing.sign_pdf(
        pdf_bytes,
        signing.load_unit_signer(certs_dir, unit_code),
        reason=reason,
        location=location,
        signed_at=signed_at,
        field_name=SIGNATURE_FIELD,
    )


def verify_letter(pdf_bytes: bytes, certs_dir: str | Path) -> signing.VerificationResult:
    """A letter's signature checked against the trust anchors kept with the certificates."""
    return signing.verify_pdf(pdf_bytes, signing.load_trust_roots(certs_dir), field_name=SIGNATURE_FIELD)
