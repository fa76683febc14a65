"""Administration: the holiday calendar of a year (service/calendar.py, as /api/v1/calendar): days
off, swapped working days and working hours, edited on a version and audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import redirect, request, url_for
from werkzeug.datastructures import MultiDict

from eventkit.envelope import jsonable
from eventkit.mongo import Document
from eventkit.web import current_db
from processing.schemas import CalendarUpdateSchema
from processing.service import Conflict, InvalidData, calendar
from processing.web.admin import PREFIX
from processing.web.admin_forms import STALE, admin_page, editing_rows, flat_errors, load, rows, text
from processing.web.pages import blp, officer, page
from webui import PageError

KIND_OPTIONS = (("holiday", "Nghỉ lễ, Tết"), ("compensatory", "Nghỉ bù"), ("swap", "Nghỉ hoán đổi"))
ROW_LISTS = ("days_off", "working_days", "hours")
ACTIONS = {"calendar.updated": "Sửa lịch năm"}


def _state(year: Document) -> dict[str, Any]:
    return {
        "days_off": [{k: str(jsonable(d[k])) for k in ("date", "name", "kind")} for d in year["days_off"]],
        "working_days": [{k: str(jsonable(d[k])) for k in ("date", "name")} for d in year["working_days"]],
        "hours": [{k: s[k] for k in ("start", "end")} for s in year["hours"]],
        "version": year["version"],
        "reason": "",
    }


def _form_state(form: MultiDict[str, str]) -> dict[str, Any]:
    return {
        "days_off": rows(form, "days_off", ("date", "name", "kind"), blank={"kind": "holiday"}),
        "working_days": rows(form, "working_days", ("date", "name")),
        "hours": rows(form, "hours", ("start", "end")),
        "version": text(form, "version", 20),
        "reason": text(form, "reason", 2000),
    }


def _calendar_page(year: int, state: dict[str, Any], status: int = 200, **context: Any) -> tuple[str, int]:
    this_year = date.today().year
    years = [y for y in range(this_year - 1, this_year + 3) if calendar.FIRST_YEAR <= y <= calendar.LAST_YEAR]
    return page(
        "console/admin_calendar.html",
        status,
        year=year,
        years=years,
        state=state,
        kind_options=KIND_OPTIONS,
        history=calendar.history(current_db(), year),
        actions=ACTIONS,
        **context,
    )


def _checked_year(year: int) -> int:
    if not calendar.FIRST_YEAR <= year <= calendar.LAST_YEAR:
        raise PageError(404, f"Chỉ có lịch làm việc từ năm {calendar.FIRST_YEAR} đến {calendar.LAST_YEAR}.")
    return year


@blp.get(f"{PREFIX}/lich")
@admin_page
def admin_calendar() -> Any:
    """This year's calendar, or the one of `?nam=`."""
    wanted = request.args.get("nam", "")
    year = int(wanted) if wanted.isdigit() and len(wanted) == 4 else date.today().year
    return redirect(url_for("console.admin_calendar_year", year=_checked_year(year)))


@blp.get(f"{PREFIX}/lich/<int:year>")
@admin_page
def admin_calendar_year(year: int) -> tuple[str, int]:
    stored = calendar.get_year(current_db(), _checked_year(year))
    return _calendar_page(year, _state(stored), saved="da_luu" in request.args)


@blp.post(f"{PREFIX}/lich/<int:year>")
@admin_page
def admin_calendar_save(year: int) -> Any:
    db = current_db()
    _checked_year(year)
    state = _form_state(request.form)
    if editing_rows(request.form, ROW_LISTS):
        return _calendar_page(year, state)
    given = {k: state[k] for k in ("version", "reason")}
    given.update({name: [dict(row) for row in state[name]] for name in ROW_LISTS})
    data, errors = load(CalendarUpdateSchema(), given)
    if data is None:
        return _calendar_page(year, state, 422, errors=errors)
    version = data.pop("version")
    try:
        calendar.update_year(db, year, data, version, officer().user_id)
    except InvalidData as invalid:
        return _calendar_page(year, state, 422, errors=flat_errors(invalid.errors))
    except Conflict:
        fresh = {**_state(calendar.get_year(db, year)), "reason": state["reason"]}
        return _calendar_page(year, fresh, 409, conflict=STALE)
    return redirect(url_for("console.admin_calendar_year", year=year, da_luu=1))
