"""The work queue: the dossiers of the officer's units, due first, with the API's filters and pages.

The page reads through `service.queues` as `GET /api/v1/dossiers` does (the same schema checks
the filters, the same criteria keep the officer to their units); the counts per state come from
`queue_counts`, kept by the writes that move a dossier.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode

from flask import request, url_for
from marshmallow import ValidationError

from eventkit.auth import Roles
from eventkit.errors import Forbidden
from eventkit.web import current_db
from processing import deadlines, store
from processing.schemas import DossierQuerySchema
from processing.service import queues
from processing.web.pages import blp, officer, page
from processing.workflow import States
from webui import PageError

QUEUE_ROLES = frozenset({Roles.RECEPTIONIST, Roles.SPECIALIST, Roles.LEADER})

STATE_LABELS = {
    States.SUBMITTED: "Chờ tiếp nhận",
    States.SUPPLEMENT_REQUESTED: "Chờ bổ sung",
    States.ACCEPTED: "Đã tiếp nhận",
    States.IN_PROGRESS: "Đang xử lý",
    States.AWAITING_APPROVAL: "Chờ lãnh đạo duyệt",
    States.APPROVED: "Đã duyệt",
    States.RESULT_READY: "Có kết quả, chờ trả",
    States.RETURNED: "Đã trả kết quả",
    States.REFUSED: "Từ chối tiếp nhận",
    States.REJECTED: "Không giải quyết",
    States.STOPPED: "Dừng giải quyết",
    States.WITHDRAWN: "Công dân đã rút",
}
# Working hours left under which a dossier is "due soon" (one working day).
SOON_HOURS = 8
# (css modifier, text) by how a dossier stands against its due time.
TIMING = {
    "early": ("early", "Còn hạn"),
    "soon": ("soon", "Sắp đến hạn"),
    "overdue": ("overdue", "Quá hạn"),
    "paused": ("paused", "Tạm dừng, chờ bổ sung"),
    "none": ("none", "Chưa có hạn"),
}


def timing_of(row: dict[str, Any]) -> tuple[str, str]:
    """How a queue row stands against its due time, as a CSS modifier and a text (never colour alone)."""
    if row.get("due_at") is None:
        return TIMING["none"]
    if row.get("overdue"):
        return TIMING["overdue"]
    if row.get("paused"):
        return TIMING["paused"]
    left = row.get("working_hours_left")
    if left is not None and left <= SOON_HOURS:
        return TIMING["soon"]
    return TIMING["early"]


def _date_start(text: str) -> str:
    """A `YYYY-MM-DD` of the date field as the API's aware datetime: local midnight of that day."""
    day = datetime.strptime(text, "%Y-%m-%d").date()
    return datetime.combine(day, time(0), tzinfo=deadlines.TZ).isoformat()


def _raw_query() -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The form's fields in the API's query shape, and the errors of those the form itself reads."""
    args = request.args
    raw: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in ("unit", "procedure", "q", "cursor", "limit"):
        value = args.get(name, "").strip()
        if value:
            raw[name] = value
    states = [s for s in args.getlist("state") if s]
    if states:
        raw["state"] = states
    if args.get("mine"):
        raw["assignee"] = "me"
    if args.get("overdue") in ("1", "0"):
        raw["overdue"] = args["overdue"] == "1"
    if due := args.get("due_before", "").strip():
        try:
            raw["due_before"] = _date_start(due)
        except ValueError:
            errors["due_before"] = ["Ngày dạng năm-tháng-ngày."]
    return raw, errors


def _messages(errors: dict[str, Any]) -> dict[str, str]:
    """marshmallow's errors, one text per field (a list's items joined)."""
    shown: dict[str, str] = {}
    for name, value in errors.items():
        if isinstance(value, dict):
            value = [m for messages in value.values() for m in messages]
        shown[name] = " ".join(str(m) for m in value) if isinstance(value, list) else str(value)
    return shown


def state_counts(units: list[str]) -> dict[str, int]:
    """Dossiers per state over `units`: one read by `_id` per unit."""
    totals: dict[str, int] = {}
    for unit in units:
        for state, count in store.get_dossier_counts(current_db(), unit).items():
            totals[state] = totals.get(state, 0) + count
    return totals


def queue_page(greeting: bool = False) -> tuple[str, int]:
    staff = officer()
    raw, errors = _raw_query()
    try:
        query = DossierQuerySchema().load(raw)
    except ValidationError as exc:
        errors.update(exc.messages if isinstance(exc.messages, dict) else {"q": exc.messages})
        query = None
    result: dict[str, Any] = {"items": [], "next_cursor": None}
    if query is not None and not errors:
        try:
            result = queues.page(current_db(), queues.criteria(staff, query))
        except Forbidden as exc:
            raise PageError(403, str(exc)) from exc
    units = sorted(staff.units)
    selected = raw.get("unit") if raw.get("unit") in staff.units else None
    rows = [
        {**row, "timing": timing_of(row), "state_label": STATE_LABELS.get(row["state"], row["state"])}
        for row in result["items"]
    ]
    # The same filters, from the first page or after the cursor the API gave.
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
    here = url_for("console.queue")
    next_url = (
        f"{here}?{urlencode([*kept, ('cursor', result['next_cursor'])])}" if result["next_cursor"] else None
    )
    return page(
        "console/queue.html",
        422 if errors else 200,
        greeting=greeting,
        rows=rows,
        next_url=next_url,
        first_url=f"{here}?{urlencode(kept)}" if raw.get("cursor") else None,
        errors=_messages(errors),
        args=request.args,
        chosen_states=raw.get("state") or [],
        units=units,
        selected_unit=selected,
        counts=state_counts([selected] if selected else units),
        state_labels=STATE_LABELS,
        open_states=States.OPEN,
        all_states=States.ALL,
    )


@blp.get("/ho-so")
def queue() -> tuple[str, int]:
    if not officer().has_any_role(QUEUE_ROLES):
        raise PageError(403, "Tài khoản của bạn không có vai trò xử lý hồ sơ.")
    return queue_page()
