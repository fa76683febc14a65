"""The working-day calendar (data per year, edited by the administrator) and due-time queries."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from eventkit.envelope import jsonable
from eventkit.mongo import Db, Document
from processing import calendar_seed, deadlines, store
from processing.service import Conflict, InvalidData, NotFound
from processing.service.catalogue import PROCEDURES
from processing.service.catalogue import get as get_reference

SEED_SOURCE = "holidays 0.108"
# A deadline can run past the year of receipt: Tết, long legal times. Two more years cover it.
YEARS_AHEAD = 2
# Years the calendar can be asked about; one not stored yet is the package's default (version 0)
# until the administrator saves it.
FIRST_YEAR, LAST_YEAR = 2015, 2100


def seed(db: Db, actor: str = "seed") -> list[int]:
    """Store the default calendar of each seed year that is not stored yet; returns those added."""
    added = []
    for year in calendar_seed.SEED_YEARS:
        data = calendar_seed.default_year(year)
        data.pop("year", None)
        record = {
            **data,
            "version": 1,
            "source": SEED_SOURCE,
            "updated_at": datetime.now(UTC),
            "updated_by": actor,
        }
        if store.insert_calendar_year(db, year, record):
            added.append(year)
    return added


def _default(year: int) -> Document:
    data = calendar_seed.default_year(year)
    return {**data, "year": year, "version": 0, "source": SEED_SOURCE, "updated_at": None, "updated_by": ""}


def get_year(db: Db, year: int) -> Document:
    """The stored calendar of `year`, or the package's default (version 0) if none is stored."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NotFound(f"Không có lịch làm việc năm {year} (chỉ từ {FIRST_YEAR} đến {LAST_YEAR}).")
    return store.get_calendar_year(db, year) or _default(year)


def _check_year(year: int, data: Document) -> None:
    errors: dict[str, list[str]] = {}
    off = [d["date"] for d in data["days_off"]]
    worked = [d["date"] for d in data["working_days"]]
    if any(d.year != year for d in off):
        errors.setdefault("days_off", []).append(f"Mọi ngày nghỉ phải thuộc năm {year}.")
    if len(set(off)) != len(off):
        errors.setdefault("days_off", []).append("Ngày nghỉ bị trùng.")
    if any(d.year != year for d in worked):
        errors.setdefault("working_days", []).append(f"Mọi ngày làm bù phải thuộc năm {year}.")
    if any(d.weekday() < 5 for d in worked):
        errors.setdefault("working_days", []).append("Ngày làm bù phải là thứ Bảy hoặc Chủ nhật.")
    if set(off) & set(worked):
        errors.setdefault("working_days", []).append("Một ngày không thể vừa nghỉ vừa làm việc.")
    sessions = [(time.fromisoformat(s["start"]), time.fromisoformat(s["end"])) for s in data["hours"]]
    try:
        deadlines.WorkingHours(tuple(sessions))
    except ValueError:
        errors["hours"] = [
            "Các buổi làm việc phải theo thứ tự, không chồng lấn, giờ bắt đầu trước giờ kết thúc."
        ]
    if errors:
        raise InvalidData(errors)


def update_year(db: Db, year: int, data: Document, expected_version: int, actor: str) -> Document:
    _check_year(year, data)
    current = store.get_calendar_year(db, year)
    record = {
        "days_off": sorted(data["days_off"], key=lambda d: d["date"]),
        "working_days": sorted(data["working_days"], key=lambda d: d["date"]),
        "hours": data["hours"],
        "source": "admin",
        "updated_at": datetime.now(UTC),
        "updated_by": actor,
    }
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NotFound(f"Không có lịch làm việc năm {year} (chỉ từ {FIRST_YEAR} đến {LAST_YEAR}).")
    if current is None:
        if expected_version != 0 or not store.insert_calendar_year(db, year, {**record, "version": 1}):
            raise Conflict(f"Lịch năm {year} chưa được lưu lần nào: gửi version 0; hãy tải lại.")
    else:
        if current["version"] != expected_version:
            raise Conflict(
                f"Lịch năm {year} đã được sửa (phiên bản hiện tại {current['version']}); hãy tải lại."
            )
        if not store.replace_calendar_year(
            db, year, expected_version, {**record, "version": expected_version + 1}
        ):
            raise Conflict(f"Lịch năm {year} vừa được người khác sửa; hãy tải lại.")
    after = get_year(db, year)
    store.record_audit(
        db,
        actor=actor,
        action="calendar.updated",
        target=f"calendar:{year}",
        before=_audit_view(current),
        after=_audit_view(after),
        reason=data.get("reason", ""),
    )
    return after


def _audit_view(document: Document | None) -> Any:
    if document is None:
        return None
    return jsonable({k: document[k] for k in ("version", "days_off", "working_days", "hours")})


def history(db: Db, year: int) -> list[Document]:
    return store.list_audit(db, f"calendar:{year}")


def calendar_for(db: Db, first_year: int, last_year: int) -> deadlines.Calendar:
    if first_year < FIRST_YEAR or last_year > LAST_YEAR:
        raise NotFound(f"Không có lịch làm việc năm {first_year} (chỉ từ {FIRST_YEAR} đến {LAST_YEAR}).")
    stored = {y["year"]: y for y in store.get_calendar_years(db, first_year, last_year)}
    years = [stored.get(year) or _default(year) for year in range(first_year, last_year + 1)]
    return calendar_seed.calendar_from_years(years)


def legal_time(procedure: Document) -> deadlines.LegalTime:
    time_ = procedure["processing_time"]
    cutoff = procedure.get("same_day_cutoff") if procedure.get("same_day") else None
    return deadlines.LegalTime(
        amount=float(time_["amount"]),
        unit=deadlines.TimeUnit(time_["unit"]),
        holidays_count=bool(time_.get("holidays_count", False)),
        same_day_cutoff=time.fromisoformat(cutoff) if cutoff else None,
    )


def due_for(db: Db, procedure_code: str, received_at: datetime) -> Document:
    procedure = get_reference(db, PROCEDURES, procedure_code)
    local = received_at.astimezone(deadlines.TZ)
    calendar = calendar_for(db, local.year, local.year + YEARS_AHEAD)
    due = deadlines.due_at(calendar, received_at, legal_time(procedure))
    return {
        "procedure": procedure_code,
        "procedure_version": procedure["version"],
        "received_at": local,
        "due_at": due,
        "processing_time": procedure["processing_time"],
        "same_day": procedure.get("same_day", False),
    }
