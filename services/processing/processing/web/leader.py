"""A unit's statistics (`/console/thong-ke`, leaders and administrators): the Decision 766 counters
of a month, a year or a range of months as a table (service/statistics.py, as `GET /api/v1/stats`
reads them), and the tracking register (Mẫu 06) of the same days: XLSX and CSV from processing's
own register, the PDF from notify by a link signed for the officer."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Response, current_app, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from eventkit.auth import Roles
from eventkit.errors import DomainError, InvalidData
from eventkit.web import current_db
from processing import stats
from processing.identity.links import signed_link
from processing.service import statistics
from processing.service.catalogue import UNITS
from processing.store import get_reference
from processing.web.pages import blp, officer, page, require_role
from webui import PageError

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
YEAR = re.compile(r"^\d{4}$")
KINDS = {"thang": "Một tháng", "nam": "Một năm", "khoang": "Nhiều tháng"}
GROUPS = {
    "unit": "Theo đơn vị",
    "procedure": "Theo thủ tục",
    "channel": "Theo hình thức nộp",
    "month": "Theo tháng",
}
CHANNELS = {"online": "Trực tuyến", "counter": "Tại quầy", "post": "Bưu chính"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# (counter, column heading) in the order of the Decision 766 report.
COLUMNS = (
    ("carried_over", "Kỳ trước chuyển sang"),
    ("received_new_online", "Tiếp nhận trực tuyến"),
    ("received_new_counter", "Tiếp nhận tại quầy"),
    ("received_new_post", "Tiếp nhận qua bưu chính"),
    ("resolved_early", "Giải quyết trước hạn"),
    ("resolved_on_time", "Giải quyết đúng hạn"),
    ("resolved_late", "Giải quyết quá hạn"),
    ("in_progress_on_time", "Đang giải quyết trong hạn"),
    ("in_progress_overdue", "Đang giải quyết quá hạn"),
    ("withdrawn", "Rút hồ sơ"),
    ("refused", "Từ chối tiếp nhận"),
)


@dataclass(frozen=True)
class Period:
    first_month: str  # YYYY-MM
    last_month: str

    @property
    def first_day(self) -> date:
        return date(int(self.first_month[:4]), int(self.first_month[5:]), 1)

    @property
    def last_day(self) -> date:
        year, month = int(self.last_month[:4]), int(self.last_month[5:])
        return date(year, month, calendar.monthrange(year, month)[1])


def _this_month() -> str:
    return datetime.now(UTC).astimezone(TZ).strftime("%Y-%m")


def _period(args: Any) -> tuple[Period | None, dict[str, list[str]]]:
    """The period the form asks for, or the errors naming its fields."""
    kind = args.get("ky", "thang")
    if kind not in KINDS:
        return None, {"ky": ["Hãy chọn một tháng, một năm hoặc nhiều tháng."]}
    if kind == "nam":
        year = args.get("nam", "").strip() or _this_month()[:4]
        if not YEAR.fullmatch(year):
            return None, {"nam": ["Năm gồm 4 chữ số, ví dụ 2026."]}
        return Period(f"{year}-01", f"{year}-12"), {}
    if kind == "thang":
        month = args.get("thang", "").strip() or _this_month()
        if not MONTH.fullmatch(month):
            return None, {"thang": ["Tháng dạng YYYY-MM, ví dụ 2026-03."]}
        return Period(month, month), {}
    first, last = args.get("tu", "").strip(), args.get("den", "").strip()
    errors = {}
    if not MONTH.fullmatch(first):
        errors["tu"] = ["Tháng dạng YYYY-MM, ví dụ 2026-01."]
    if not MONTH.fullmatch(last):
        errors["den"] = ["Tháng dạng YYYY-MM, ví dụ 2026-03."]
    return (None, errors) if errors else (Period(first, last), {})


def _units() -> dict[str, str]:
    names = {}
    for code in sorted(officer().units):
        unit = get_reference(current_db(), UNITS.collection, code)
        names[code] = (unit or {}).get("name") or code
    return names


def _unit(args: Any, units: dict[str, str]) -> tuple[str, dict[str, list[str]]]:
    unit = args.get("don_vi", "").strip() or next(iter(units), "")
    if unit not in units:
        return unit, {"don_vi": ["Hãy chọn một đơn vị của bạn."]}
    return unit, {}


def _query_errors(exc: InvalidData) -> dict[str, list[str]]:
    """The statistics' own query errors (`from`, `to`) beside the form's period fields."""
    fields = {"from": "tu", "to": "den"}
    return {fields.get(name, "ky"): [str(m) for m in messages] for name, messages in exc.errors.items()}


@blp.get("/thong-ke")
def leader_stats() -> tuple[str, int]:
    require_role(Roles.LEADER, Roles.ADMIN)
    units = _units()
    unit, errors = _unit(request.args, units)
    period, period_errors = _period(request.args)
    errors.update(period_errors)
    group_by = request.args.get("nhom", "procedure")
    if group_by not in GROUPS:
        errors["nhom"] = ["Hãy chọn cách nhóm số liệu."]
    report = None
    if not errors and period is not None:
        try:
            report = statistics.report(
                current_db(),
                officer(),
                unit=unit,
                first=period.first_month,
                last=period.last_month,
                group_by=group_by,
            )
        except InvalidData as exc:
            errors = _query_errors(exc)
    register = None
    if report is not None and period is not None:
        days = (period.last_day - period.first_day).days + 1
        if days <= statistics.MAX_REGISTER_DAYS:
            register = {
                "don_vi": unit,
                "tu": period.first_day.isoformat(),
                "den": period.last_day.isoformat(),
            }
    return page(
        "console/leader_stats.html",
        422 if errors else 200,
        units=units,
        unit=unit,
        values=request.args,
        kinds=KINDS,
        groups=GROUPS,
        group_by=group_by,
        channels=CHANNELS,
        columns=COLUMNS,
        period=period,
        report=report,
        register=register,
        errors=errors,
    )


def _register_period() -> tuple[str, date, date]:
    require_role(Roles.LEADER, Roles.ADMIN)
    unit = request.args.get("don_vi", "")
    try:
        first = date.fromisoformat(request.args.get("tu", ""))
        last = date.fromisoformat(request.args.get("den", ""))
    except ValueError:
        raise PageError(400, "Khoảng ngày của sổ theo dõi không hợp lệ (ngày dạng YYYY-MM-DD).") from None
    if not officer().serves(unit):
        raise PageError(403, "Tài khoản không thuộc đơn vị này.")
    return unit, first, last


@blp.get("/thong-ke/so-theo-doi.<fmt>")
def leader_register(fmt: str) -> BaseResponse:
    """The tracking register (Mẫu 06) of the unit for the days asked: XLSX or CSV from processing's
    own register; the PDF is notify's, by a link signed now for this officer."""
    if fmt not in ("xlsx", "csv", "pdf"):
        raise PageError(404, "Không có định dạng này.")
    unit, first, last = _register_period()
    if fmt == "pdf":
        config = current_app.extensions["service_config"]
        link = signed_link(
            current_app.extensions["staff_keys"], config.notify_url, "/api/v1/register.pdf", officer()
        )
        query = urlencode({"unit": unit, "from": first.isoformat(), "to": last.isoformat()})
        return redirect(f"{link}&{query}")
    try:
        unit, rows = statistics.register(
            current_db(), officer(), unit=unit, first=first, last=last, now=datetime.now(UTC)
        )
    except DomainError as exc:
        errors = getattr(exc, "errors", {})
        message = " ".join(str(m) for messages in errors.values() for m in messages) or str(exc)
        raise PageError(exc.status, message) from None
    name = f"so-theo-doi-ho-so-{unit}-{first:%Y%m%d}-{last:%Y%m%d}.{fmt}"
    if fmt == "xlsx":
        body, mimetype = stats.register_xlsx(rows), XLSX
    else:
        body, mimetype = stats.register_csv(rows), "text/csv; charset=utf-8"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
