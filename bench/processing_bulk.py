"""A centre's history in bulk: processing's documents as the real flow leaves them, by the million.

The real flow is run once per *template*: for each receiving unit, a few of its procedures, each
path a dossier can take (returned early or late, after a supplement, after an extension; refused,
withdrawn, rejected, stopped; or still open in each open state) and each channel, an intake
`dossier.submitted` event shaped as intake sends it goes through processing's own consumer
handler, and the officers' actions through `service.dossiers.perform` (the result signed), with
the clock given to each step. The template keeps the dossier document as the store holds it
after the relay published its events (outbox empty, `outbox_pending` false) and the events in the
order they happened.

A bulk dossier is a template copied with a new code (the unit's electronic id, the day, a number
of that day), a new applicant (and the search keys the real flow derives from the applicant) and
every time moved by a whole number of weeks, so weekdays and hours stay (holidays do not move:
a due time keeps the template's working-day arithmetic). Its statistics are what the
`processing.stats` group leaves: its events, moved the same way, folded by `processing.stats.step`
into the counters (with their `applied` guards), the series' totals, the month and unit indexes and
the dossier's standing. Indexes are built after the load, as `store.ensure_indexes` makes them.
"""

from __future__ import annotations

import json
import queue
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from eventkit.auth import Staff
from eventkit.blobs import BlobStore
from eventkit.envelope import decode, jsonable, new_event
from eventkit.mongo import Db, Document
from eventkit.topics import Groups, skipped_by
from processing import stats, store
from processing.deadlines import TZ
from processing.handlers import build_handlers
from processing.importer import SEED_DIR
from processing.service import dossiers, results
from processing.service import staff as staff_directory
from processing.service.queues import search_keys
from processing.service.results import ResultSigning
from processing.service.statistics import applied_field
from tests.factories import pdf_bytes

WEEK = timedelta(days=7)
# Templates are filed on this Monday morning (local time), a week without holidays after it.
TEMPLATE_DAY = date(2026, 3, 2)
SKIPPED = skipped_by(Groups.PROCESSING_STATS)

Step = tuple[str, str, dict[str, Any], timedelta]  # action (or intake event), role, body, after filing

RETURN = [
    ("assign", "leader", {}, timedelta(hours=1)),
    ("propose", "specialist", {"note": "Đủ điều kiện, đề nghị giải quyết."}, timedelta(hours=3)),
    ("approve", "leader", {"note": "Đồng ý."}, timedelta(hours=4)),
    ("issue_result", "leader", {}, timedelta(hours=5)),
    ("return_result", "receptionist", {"method": "counter"}, timedelta(hours=6)),
]


def _late(steps: list[Step]) -> list[Step]:
    """The same steps, the last two three weeks late (past every procedure's legal time here)."""
    return [*steps[:-2], *((a, r, b, t + timedelta(days=21)) for a, r, b, t in steps[-2:])]


SUPPLEMENT = (
    "request_supplement",
    "receptionist",
    {
        "missing": [{"document": "Bản sao giấy tờ tùy thân", "reason": "Bản chụp bị mờ"}],
        "reason": "Thiếu giấy tờ",
    },
    timedelta(minutes=30),
)
SUPPLEMENTED = ("intake:supplemented", "citizen", {}, timedelta(days=1))
EXTEND = ("extend", "leader", {"reason": "Cần xác minh thêm thông tin."}, timedelta(hours=2))

# Paths to a final state, with their share of the closed dossiers.
CLOSED_PATHS: dict[str, tuple[float, list[Step]]] = {
    "returned": (0.70, RETURN),
    "returned_late": (0.08, _late(RETURN)),
    "supplemented_returned": (
        0.06,
        [SUPPLEMENT, SUPPLEMENTED, *((a, r, b, t + timedelta(days=1)) for a, r, b, t in RETURN)],
    ),
    "extended_returned": (0.02, [RETURN[0], EXTEND, *RETURN[1:]]),
    "refused": (
        0.04,
        [("refuse", "receptionist", {"reasons": ["Hồ sơ không thuộc thẩm quyền."]}, timedelta(0))],
    ),
    "withdrawn": (
        0.03,
        [("intake:withdrawn", "citizen", {"reason": "Không còn nhu cầu."}, timedelta(hours=2))],
    ),
    "rejected": (
        0.04,
        [*RETURN[:2], ("reject", "leader", {"reason": "Không đủ điều kiện."}, timedelta(hours=4))],
    ),
    "stopped": (
        0.03,
        [RETURN[0], ("stop", "leader", {"reason": "Công dân đề nghị dừng."}, timedelta(hours=2))],
    ),
}
# Paths that leave a dossier open, with their share of the open dossiers.
OPEN_PATHS: dict[str, tuple[float, list[Step]]] = {
    "submitted": (0.12, []),
    "accepted": (0.15, []),
    "in_progress": (0.38, RETURN[:1]),
    "awaiting_approval": (0.10, RETURN[:2]),
    "approved": (0.05, RETURN[:3]),
    "result_ready": (0.12, RETURN[:4]),
    "supplement_requested": (0.08, [SUPPLEMENT]),
}
# Refusal and "submitted" are steps of an online filing only (the counter's check).
ONLINE_ONLY = {"refused", "submitted"}
CHANNELS = ("online", "counter")

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thu", "Ngọc", "Quang", "Thanh", "Xuân"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hà",
    "Hải",
    "Hoa",
    "Hùng",
    "Lan",
    "Linh",
    "Mai",
    "Nam",
    "Phương",
    "Sơn",
]


def seed_items(kind: str) -> list[Document]:
    items: list[Document] = json.loads((SEED_DIR / f"{kind}.json").read_text(encoding="utf-8"))
    return items


@dataclass
class Template:
    name: str  # path
    channel: str
    unit: str
    procedure: str
    document: Document  # as stored, `_id` = the template's code
    events: list[Document]  # every event of the dossier, intake's and processing's, in order
    received: datetime  # the filing time every other time is moved with

    last_time: datetime = field(init=False)  # the latest time of the dossier

    def __post_init__(self) -> None:
        self.last_time = max(_times(self.document))


def _times(value: Any) -> Iterator[datetime]:
    if isinstance(value, datetime):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _times(item)
    elif isinstance(value, list):
        for item in value:
            yield from _times(item)


def _staff(role: str, user_id: str, units: set[str]) -> Staff:
    return Staff(user_id, "", frozenset({role}), frozenset(units))


def specialist_id(unit: str) -> str:
    return f"cv-{unit}"


class TemplateRunner:
    """Runs the real flow for one dossier at a time against `db` (catalogue and calendar seeded)."""

    def __init__(self, db: Db, blobs: BlobStore, certs_dir: str) -> None:
        self.db = db
        self.signing = ResultSigning(blobs, certs_dir)
        self.handlers = build_handlers(db)[Groups.PROCESSING_INTAKE_DOSSIERS]
        self.units = {u["code"]: u for u in seed_items("units")}
        self.number = 0
        # Dossiers are assigned to specialists of the directory: one per unit.
        staff_directory.seed(
            db,
            [
                {
                    "user_id": specialist_id(code),
                    "name": f"Chuyên viên {code}",
                    "roles": ["specialist"],
                    "units": [code],
                }
                for code in self.units
            ],
            actor="bench",
        )

    def _intake(self, kind: str, code: str, sequence: int, data: Document) -> Document:
        event = new_event(
            type=f"vn.motcua.intake.dossier.{kind}.v1",
            source="/services/intake",
            subject=code,
            data=jsonable({"code": code, **data}),
            sequence=sequence,
        )
        handler = self.handlers[event["type"]]
        handler.handle(event, handler.schema.load(event["data"]))
        return event

    def submitted_data(self, procedure: Document, unit: str, channel: str, at: datetime) -> Document:
        """What intake's `dossier.submitted` carries: the procedure's form fields and documents filled."""
        values = {"text": "Nguyễn Văn Bình", "date": "1990-05-17", "number": 1, "select": "1"}
        form = {
            f["name"]: values.get(f.get("type", "text"), "Nội dung") for f in procedure.get("form_fields", [])
        }
        documents = [
            {"type": d["code"], "upload_id": f"up-{self.number}-{d['code']}", "sha256": "a" * 64}
            for d in procedure.get("documents", [])
        ]
        return {
            "procedure_code": procedure["code"],
            "procedure_version": 1,
            "procedure_name": procedure["name"],
            "unit": unit,
            "channel": channel,
            "received_by": f"tn-{unit}" if channel == "counter" else None,
            "delivery": {"method": "counter", "address": None},
            "documents": documents,
            "applicant": {
                "full_name": "Nguyễn Thị Hoa",
                "id_number": "027190001234",
                "date_of_birth": "1990-05-17",
                "phone": "0912345678",
                "email": "hoa@example.vn",
                "address": "Thôn Ngọc Khám, xã Phú Hòa, huyện Lương Tài, tỉnh Bắc Ninh",
            },
            "form": form,
            "submitted_at": at,
            "lookup_secret_hash": "scrypt$" + "b" * 64,
        }

    def run(self, name: str, steps: list[Step], procedure: Document, unit: str, channel: str) -> Template:
        self.number += 1
        code = f"{self.units[unit]['electronic_id']}-{TEMPLATE_DAY:%y%m%d}-{self.number:04d}"
        filed = datetime.combine(TEMPLATE_DAY, time(8, 30), tzinfo=TZ) + timedelta(minutes=self.number % 240)
        intake_sequence = 1
        history = [self._intake("submitted", code, 1, self.submitted_data(procedure, unit, channel, filed))]
        if channel == "online" and name not in ONLINE_ONLY:
            steps = [("accept", "receptionist", {}, timedelta(minutes=20)), *steps]
        resolving = unit if unit in procedure["resolving_units"] else procedure["resolving_units"][0]
        assigning = [n for n, step in enumerate(steps) if step[0] == "assign"]
        if resolving != unit and assigning:
            # A district procedure received at the one-stop unit goes to the office that resolves it.
            at = steps[assigning[0]][3] - timedelta(minutes=20)
            transfer = (
                "transfer",
                "receptionist",
                {"to_unit": resolving, "note": "Chuyển phòng chuyên môn"},
                at,
            )
            steps = [*steps[: assigning[0]], transfer, *steps[assigning[0] :]]
        for action, role, body, after in steps:
            now = filed + after
            if action.startswith("intake:"):
                intake_sequence += 1
                kind = action.split(":", 1)[1]
                data = {"by": "citizen", **body}
                data[f"{kind}_at"] = now
                if kind == "supplemented":
                    data["documents"] = [
                        {"type": "TP01", "upload_id": f"up-{self.number}-s", "sha256": "c" * 64}
                    ]
                history.append(self._intake(kind, code, intake_sequence, data))
                continue
            dossier = store.get_dossier(self.db, code) or {}
            units = {dossier.get("unit", unit), unit}
            user = specialist_id(dossier.get("unit", unit)) if role == "specialist" else f"{role}-{unit}"
            body = dict(body)
            if action == "assign":
                body["assignee"] = specialist_id(dossier.get("unit", unit))
            if action == "extend":
                body["new_due_at"] = dossier["due_at"] + timedelta(days=7)
            if action == "issue_result":
                leader = _staff("leader", user, units)
                draft = results.save(
                    self.db, self.signing.blobs, pdf_bytes(4000), 10**7, leader, dossier["unit"], now
                )
                body["upload_id"] = draft["id"]
            dossiers.perform(
                self.db, code, action, body, _staff(role, user, units), now=now, results=self.signing
            )
        raw = self.db.dossiers.find_one({"_id": code})
        assert raw is not None
        history.extend(decode(entry["value"].encode()) for entry in raw.get("outbox") or [])
        history.sort(key=_event_order)
        document = {**raw, "outbox": [], "outbox_pending": False}
        return Template(name, channel, unit, procedure["code"], document, history, filed)


def _event_order(event: Document) -> tuple[str, int]:
    # Intake's and processing's events of one dossier, in the order they happened.
    return (str(event["time"]), 0 if "intake" in event["type"] else 1)


def make_templates(runner: TemplateRunner, procedures_per_unit: int, rng: random.Random) -> list[Template]:
    procedures = seed_items("procedures")
    receiving = sorted({u for p in procedures for u in p["receiving_units"]})
    templates = []
    for unit in receiving:
        offered = [p for p in procedures if unit in p["receiving_units"]]
        for procedure in rng.sample(offered, min(procedures_per_unit, len(offered))):
            for paths in (CLOSED_PATHS, OPEN_PATHS):
                for name, (_, steps) in paths.items():
                    for channel in CHANNELS:
                        if name in ONLINE_ONLY and channel != "online":
                            continue
                        templates.append(runner.run(name, list(steps), procedure, unit, channel))
    return templates


# -- copies ---------------------------------------------------------------------------------------


def _moved(value: Any, shift: timedelta) -> Any:
    if isinstance(value, datetime):
        return value + shift
    if isinstance(value, dict):
        return {k: _moved(v, shift) for k, v in value.items()}
    if isinstance(value, list):
        return [_moved(v, shift) for v in value]
    return value


def _moved_text(value: Any, shift: timedelta) -> Any:
    """Event data: times are ISO strings there."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return (datetime.fromisoformat(value) + shift).isoformat()
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _moved_text(v, shift) for k, v in value.items()}
    if isinstance(value, list):
        return [_moved_text(v, shift) for v in value]
    return value


@dataclass
class StatsTrace:
    """What a template's events, moved by one shift, leave in the statistics (without the code)."""

    deltas: list[tuple[stats.CounterKey, str, int, str, int]]  # key, field, amount, source, sequence
    standing: Document | None
    seq: dict[str, int]
    revision: int


def stats_trace(template: Template, shift: timedelta) -> StatsTrace:
    standing: stats.Standing | None = None
    seq: dict[str, int] = {}
    deltas = []
    revision = 0
    for event in template.events:
        moved = {
            **event,
            "time": _moved_text(event["time"], shift),
            "data": _moved_text(event["data"], shift),
        }
        if event["type"] in SKIPPED:
            continue
        source = str(event["type"]).split(".")[2]
        result = stats.step(moved, standing)
        standing = result.standing
        seq[source] = int(event["sequence"])
        revision += 1
        deltas.extend(
            (key, name, amount, source, int(event["sequence"])) for key, name, amount in result.deltas
        )
    return StatsTrace(deltas, None if standing is None else standing.as_doc(), seq, revision)


@dataclass
class Person:
    full_name: str
    id_number: str
    phone: str


def person(rng: random.Random) -> Person:
    return Person(
        f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
        f"027{rng.randrange(10**9):09d}",
        f"09{rng.randrange(10**8):08d}",
    )


class _Writer:
    """One thread inserting the batches in order; the first failure is raised to the caller."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self.batches: queue.Queue[tuple[list[Document], list[Document]] | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (batch := self.batches.get()) is not None:
            if self.error is not None:
                continue
            dossiers_batch, standings = batch
            try:
                if dossiers_batch:
                    self.db.dossiers.insert_many(dossiers_batch, ordered=False)
                if standings:
                    self.db.stats_standing.insert_many(standings, ordered=False)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                self.error = exc

    def put(self, dossiers_batch: list[Document], standings: list[Document]) -> None:
        if self.error is not None:
            raise self.error
        self.batches.put((dossiers_batch, standings))

    def close(self) -> None:
        self.batches.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


@dataclass
class Bulk:
    """Dossiers and their statistics, accumulated in memory and written in batches."""

    db: Db
    units: dict[str, Document]
    batch: int = 2000
    numbers: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))
    counters: dict[stats.CounterKey, dict[str, int]] = field(default_factory=dict)
    applied: dict[stats.CounterKey, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    traces: dict[tuple[int, int], StatsTrace] = field(default_factory=dict)
    pending_dossiers: list[Document] = field(default_factory=list)
    pending_standings: list[Document] = field(default_factory=list)
    # Dossiers per (unit, state), as processing's `queue_counts` keeps them move by move.
    queue: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    codes: list[str] = field(default_factory=list)
    written: int = 0
    writer: _Writer | None = None

    def add(self, template: Template, weeks: int, who: Person, index: int) -> str:
        shift = weeks * WEEK
        received_day = (template.received + shift).astimezone(TZ).date()
        self.numbers[(template.unit, received_day)] += 1
        number = self.numbers[(template.unit, received_day)]
        code = f"{self.units[template.unit]['electronic_id']}-{received_day:%y%m%d}-{number:04d}"
        document = _moved(template.document, shift)
        document["_id"] = code
        applicant = {**document.get("applicant", {}), "full_name": who.full_name, "id_number": who.id_number}
        applicant["phone"] = who.phone
        document["applicant"] = applicant
        document.update(search_keys(applicant))
        self.pending_dossiers.append(document)
        counts = self.queue[document["unit"]]
        counts[document["state"]] = counts.get(document["state"], 0) + 1
        trace = self.traces.get((index, weeks))
        if trace is None:
            trace = self.traces[(index, weeks)] = stats_trace(template, shift)
        self._count(code, trace)
        self.codes.append(code)
        if len(self.pending_dossiers) >= self.batch:
            self.flush()
        return code

    def _count(self, code: str, trace: StatsTrace) -> None:
        for key, name, amount, source, sequence in trace.deltas:
            fields = self.counters.setdefault(key, {})
            fields[name] = fields.get(name, 0) + amount
            self.applied[key][applied_field(source, code).split(".", 1)[1]] = sequence
        if trace.revision:
            self.pending_standings.append(
                {
                    "_id": code,
                    "standing": trace.standing,
                    "seq": trace.seq,
                    "pending": None,
                    "revision": trace.revision,
                }
            )

    def flush(self) -> None:
        """Hand the batch to the writer thread (the store works while the next batch is made)."""
        if self.writer is None:
            self.writer = _Writer(self.db)
        self.writer.put(self.pending_dossiers, self.pending_standings)
        self.written += len(self.pending_dossiers)
        self.pending_dossiers, self.pending_standings = [], []

    def finish(self) -> None:
        """Wait until every batch is stored."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def write_statistics(self) -> None:
        """Counters, totals and the month and unit indexes, as the stats group leaves them; and the
        dossiers per unit and state, as the workflow leaves them (every unit has its counts, so the
        importer's seed counts none of them again over the whole store)."""
        self.flush()
        self.finish()
        self.db[store.QUEUE_COUNTS].insert_many(
            [{"_id": unit, **self.queue.get(unit, {})} for unit in self.units], ordered=False
        )
        counter_docs = [
            {
                **doc,
                "applied": dict(
                    self.applied[
                        stats.CounterKey(doc["unit"], doc["procedure"], doc["channel"], doc["month"])
                    ]
                ),
            }
            for doc in stats.counter_docs(self.counters)
        ]
        for start in range(0, len(counter_docs), 500):
            self.db.stats_counters.insert_many(counter_docs[start : start + 500], ordered=False)
        totals = stats.stock_totals(self.counters)
        if totals:
            self.db.stats_totals.insert_many(totals, ordered=False)
        months: dict[tuple[str, str], list[str]] = defaultdict(list)
        for key in sorted(self.counters):
            months[(key.unit, key.month)].append(key.id)
        self.db.stats_months.insert_many(
            [{"_id": f"{u}|{m}", "unit": u, "month": m, "keys": keys} for (u, m), keys in months.items()]
        )
        by_unit: dict[str, list[str]] = defaultdict(list)
        for (unit, month), _ in months.items():
            by_unit[unit].append(month)
        self.db.stats_units.insert_many(
            [
                {
                    "_id": unit,
                    "first_month": min(unit_months),
                    "last_month": max(unit_months),
                    "total_keys": [t["_id"] for t in totals if t["unit"] == unit],
                    "totals": True,
                }
                for unit, unit_months in by_unit.items()
            ]
        )


def pick(
    templates: list[Template], paths: dict[str, tuple[float, list[Step]]], rng: random.Random
) -> Callable[[], int]:
    """A chooser of template indexes: the path by its share, then any template of that path."""
    by_path: dict[str, list[int]] = defaultdict(list)
    for index, template in enumerate(templates):
        if template.name in paths:
            by_path[template.name].append(index)
    names = [name for name in paths if by_path[name]]
    weights = [paths[name][0] for name in names]

    def choose() -> int:
        return rng.choice(by_path[rng.choices(names, weights)[0]])

    return choose
