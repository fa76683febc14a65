"""Notify's email sender and letters: emails per second to an SMTP sink, and letters signed per second.

Run from the repository root (PYTHONPATH as for the tests; `make bench` runs it too)::

    PYTHONPATH=libs/eventkit:tools:services/intake:services/processing:services/notify:services/portal:. \\
        .local/venv/bin/python bench/bench_notify.py [--emails 10000] [--letters 100] [--quick]

Starts a throwaway FerretDB and Mailpit (keeping every message: ``--max=0``) on free ports.

Emails. A backlog of ``--emails`` notifications is made as the worker makes it: each dossier's
``intake.dossier.submitted`` (a counter filing naming an email address) and
``processing.dossier.accepted`` go through the consumer groups' own handlers
(``notify.handlers.build_handlers``), which leave one ``accepted`` notification per dossier naming
the receipt slip. The notifications are copied into a second database, so both runs drain the
same backlog. Each database is drained by the sender's own loop (``sending.send_due`` batch after
batch, the worker's batch size, one connection per batch): once without attachments, once with
the receipt slip (``notify.letters.render_letter`` of form mau-01, signed, about 50 KiB) through
the ``attachments_for`` hook. Each run has its baseline just before it: a plain ``smtplib`` loop
on one connection sending the same emails (rendered beforehand; the MIME built by
``notify.mailer.Mailer.build`` in the loop, with or without the same PDF). Target: notify sends
at least 0.7 of the baseline's rate. Mailpit is emptied after each run, once it holds every
message sent. The CPU used per email by this process, FerretDB and Mailpit is reported beside.

Letters. ``--letters`` receipt slips rendered (``render_letter``) against the same rendered and
signed (``sign_letter``, PAdES, with the development certificate of the unit from
``devstack.certificates.ensure_unit_certificates``), ``--rounds`` rounds alternating; the ratio of
the rates is reported (signing's cost, no target).

The script exits 0 once it has measured (a benchmark reports, it does not fail the build); below
target it says so.
"""

from __future__ import annotations

import argparse
import json
import smtplib
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from bench_intake import group_cpu_seconds
from harness import fill_defaults, run_in_workdir

from devstack.certificates import ensure_unit_certificates, signing_units
from devstack.infra import FerretDB, Mailpit, free_ports
from eventkit.mongo import Db, Document, connect
from eventkit.topics import Groups
from notify import letters, store
from notify.config import NotifyConfig
from notify.handlers import build_handlers
from notify.mailer import Attachment, Email, Mailer
from notify.service import sending
from notify.service.due_scan import DueScan
from notify.templates import Renderer
from tests.integration.notify_tools import UNIT, accepted, submitted

TARGET = 0.7
EMAILS, LETTERS, ROUNDS = 10_000, 100, 3
QUICK = {"emails": 500, "letters": 10, "rounds": 2}
PORTAL = "https://dichvucong.luongtai.example.vn"
LETTER_VERSION = "2019.1"
INSERT_BATCH = 500
# Mailpit stores a message a moment after it accepted it: how long to wait for the last ones.
SINK_TIMEOUT = 120.0


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@dataclass
class Sink(Mailpit):
    """Mailpit keeping every message (its default keeps the newest 500), so a run's count is checked."""

    def command(self) -> list[str]:
        return [*super().command(), "--max=0"]

    def count(self) -> int:
        answer = requests.get(f"{self.api_url}/api/v1/messages", params={"limit": 1}, timeout=30)
        answer.raise_for_status()
        return int(answer.json()["messages_count"])

    def wait_for(self, expected: int) -> int:
        deadline = time.monotonic() + SINK_TIMEOUT
        while (held := self.count()) < expected and time.monotonic() < deadline:
            time.sleep(0.5)
        return held

    def empty(self) -> None:
        requests.delete(f"{self.api_url}/api/v1/messages", timeout=120).raise_for_status()


@dataclass
class EmailRun:
    name: str
    sent: int
    seconds: float
    received: int  # what the sink held after the run
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by part in the run
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def per_s(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def cpu_ms_per_email(self, part: str) -> float:
        return self.cpu.get(part, 0.0) / self.sent * 1000 if self.sent else 0.0


CPU_PARTS = ("client", "store", "sink")


def cpu_sample(ferretdb: FerretDB, sink: Sink) -> dict[str, float]:
    assert ferretdb.proc is not None and sink.proc is not None
    # Each process runs in its own session: its process group is its pid.
    return {
        "client": time.process_time(),
        "store": group_cpu_seconds(ferretdb.proc.pid),
        "sink": group_cpu_seconds(sink.proc.pid),
    }


def code_of(n: int) -> str:
    # Distinct dossier codes, in the shape of the real ones (unit, day, number of the day).
    return f"000.21.26.H06-2612{n // 9999 + 1:02d}-{n % 9999 + 1:04d}"


def build_backlog(db: Db, renderer: Renderer, count: int) -> float:
    """`count` accepted notifications made by the consumer handlers; the seconds it took."""
    handlers = build_handlers(db, renderer)
    started = time.perf_counter()
    for n in range(count):
        code = code_of(n)
        for event, group in (
            (
                submitted(code, f"cong-dan-{n:05d}@example.vn", channel="counter"),
                Groups.NOTIFY_INTAKE_DOSSIERS,
            ),
            (accepted(code), Groups.NOTIFY_PROCESSING_DOSSIERS),
        ):
            handler = handlers[group][event["type"]]
            handler.handle(event, handler.schema.load(event["data"]))
    return time.perf_counter() - started


def copy_notifications(source: Db, target: Db) -> int:
    """The notifications of `source` as they are, into `target` (with notify's indexes)."""
    store.ensure_indexes(target)
    copied, batch = 0, []
    for document in source.notifications.find({}):
        batch.append(document)
        if len(batch) == INSERT_BATCH:
            target.notifications.insert_many(batch, ordered=False)
            copied, batch = copied + len(batch), []
    if batch:
        target.notifications.insert_many(batch, ordered=False)
        copied += len(batch)
    return copied


def rendered_emails(
    db: Db, renderer: Renderer, mailer: Mailer, attachments_for: sending.AttachmentsFor
) -> list[Email]:
    """The emails the sender will send from `db`, rendered as it renders them."""
    emails = []
    for notification in db.notifications.find({}, {"outbox": 0}).sort("send_after", 1):
        # The sender's own message, so the baseline sends byte for byte the same parts.
        emails.append(sending._email(notification, renderer, mailer, attachments_for(notification)))
    return emails


def smtplib_run(name: str, mailer: Mailer, emails: list[Email], ferretdb: FerretDB, sink: Sink) -> EmailRun:
    """The baseline: one connection, the message built by notify's mailer, sent, nothing recorded."""
    before = cpu_sample(ferretdb, sink)
    started = time.perf_counter()
    smtp = smtplib.SMTP(mailer.host, mailer.port, timeout=mailer.timeout)
    try:
        for email in emails:
            smtp.send_message(mailer.build(email))
    finally:
        smtp.quit()
    seconds = time.perf_counter() - started
    after = cpu_sample(ferretdb, sink)
    received = sink.wait_for(len(emails))
    return EmailRun(name, len(emails), seconds, received, {p: after[p] - before[p] for p in after})


def notify_run(
    name: str,
    db: Db,
    mailer: Mailer,
    renderer: Renderer,
    policy: sending.SendPolicy,
    attachments_for: sending.AttachmentsFor,
    expected: int,
    ferretdb: FerretDB,
    sink: Sink,
) -> EmailRun:
    """The sender's loop, batch after batch (as the worker's `sender` duty runs it), until nothing is due."""
    statuses: Counter[str] = Counter()
    before = cpu_sample(ferretdb, sink)
    started = time.perf_counter()
    scan = DueScan()  # the worker's sender keeps one for its life
    while counts := sending.send_due(
        db, mailer, renderer, policy, attachments_for=attachments_for, scan=scan
    ):
        statuses.update(counts)
    seconds = time.perf_counter() - started
    after = cpu_sample(ferretdb, sink)
    received = sink.wait_for(expected)
    sent = statuses.get("delivered", 0)
    return EmailRun(name, sent, seconds, received, {p: after[p] - before[p] for p in after}, statuses)


def receipt_data(n: int) -> dict[str, Any]:
    """Form mau-01 (the receipt and appointment slip) for dossier `n`, as a counter receipt fills it."""
    address = "Thôn Ngọc Quan, xã Lâm Thao, huyện Lương Tài, tỉnh Bắc Ninh"
    return {
        "unit": {"parent_name": "Ủy ban nhân dân huyện Lương Tài", "name": "Ủy ban nhân dân thị trấn Thứa"},
        "number": f"{n + 1}/TNHS",
        "place": "Lương Tài",
        "date": "2026-12-03",
        "lookup_url": f"{PORTAL}/tra-cuu-ho-so?ma={code_of(n)}",
        "dossier_code": code_of(n),
        "copy": "2",
        "applicant": {
            "full_name": "Nguyễn Thị Hồng Nhung",
            "address": address,
            "phone": "0912345678",
            "email": "nhung.nguyen@example.vn",
        },
        "procedure_name": "Đăng ký lại việc khai sinh",
        "documents": [
            {
                "name": "Tờ khai đăng ký lại việc khai sinh",
                "originals": 1,
                "certified_copies": 0,
                "photocopies": 0,
            },
            {
                "name": "Căn cước công dân của người yêu cầu",
                "originals": 0,
                "certified_copies": 1,
                "photocopies": 1,
            },
        ],
        "sets": 1,
        "processing_time": "05 ngày làm việc",
        "received_at": "2026-12-03T09:32:00+07:00",
        "due_at": "2026-12-10T09:32:00+07:00",
        "delivery": {"method": "counter", "address": address},
        "register": {"book": "03/2026", "entry": n + 1},
        "received_by_name": "Trần Văn Đức",
    }


def signed_slip(certs: Path, n: int = 0) -> bytes:
    pdf = letters.render_letter("mau-01", LETTER_VERSION, receipt_data(n))
    reason = letters.letter_reason("mau-01", LETTER_VERSION, code_of(n))
    return letters.sign_letter(pdf, UNIT, certs, reason=reason, location="Lương Tài")


def slip_hook(slip: bytes) -> sending.AttachmentsFor:
    """The hook as letters would fill it: the signed slips the notification names, kept already."""

    def attachments_for(notification: Document) -> list[Attachment]:
        return [
            Attachment(f"{name}-{notification['dossier']}.pdf", slip) for name in notification["attachments"]
        ]

    return attachments_for


def letters_rate(count: int, certs: Path | None) -> float:
    """Letters per second: rendered, and signed too when `certs` is given."""
    started = time.perf_counter()
    for n in range(count):
        pdf = letters.render_letter("mau-01", LETTER_VERSION, receipt_data(n))
        if certs is not None:
            reason = letters.letter_reason("mau-01", LETTER_VERSION, code_of(n))
            letters.sign_letter(pdf, UNIT, certs, reason=reason, location="Lương Tài")
    return count / (time.perf_counter() - started)


def email_row(run: EmailRun) -> str:
    cpu = "".join(f"{run.cpu_ms_per_email(part):>8.2f}" for part in CPU_PARTS)
    return f"{run.name:<40}{run.sent:>8}{run.seconds:>9.1f}{run.per_s:>10.1f}{run.received:>9}{cpu}"


def email_header() -> str:
    cpu = "".join(f"{part:>8}" for part in CPU_PARTS)
    return f"{'run':<40}{'emails':>8}{'s':>9}{'emails/s':>10}{'in sink':>9}{cpu}   (CPU ms per email)"


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    store_port, smtp_port, http_port = free_ports(3)
    ferretdb = FerretDB("ferretdb", workdir / "ferretdb", port=store_port)
    sink = Sink("mailpit", workdir / "mailpit", smtp_port=smtp_port, http_port=http_port)
    try:
        ferretdb.start()
        sink.start()
        ferretdb.wait_ready()
        sink.wait_ready()
        [unit] = [u for u in signing_units() if u.code == UNIT]
        certs = ensure_unit_certificates(workdir / "signing", [unit])
        config = NotifyConfig  # its defaults: what a worker runs with when nothing is set
        renderer = Renderer(PORTAL)
        mailer = Mailer(sink.smtp_url, config.mail_from, timeout=config.smtp_timeout_seconds)
        # The worker's batch and lease (notify.worker.policy_of); no per-unit limit, as configured by default.
        policy = sending.SendPolicy(batch=args.batch or config.send_batch)
        slip = signed_slip(certs)

        plain_db = connect(ferretdb.url, "bench_notify_plain", app_name="bench")
        slip_db = connect(ferretdb.url, "bench_notify_slip", app_name="bench")
        store.ensure_indexes(plain_db)
        say(
            f"notify benchmark: {args.emails:,} emails per run (sender batch {policy.batch}),"
            f" {args.letters} letters x {args.rounds} rounds; receipt slip {len(slip) / 1024:.0f} KiB"
        )
        backlog_seconds = build_backlog(plain_db, renderer, args.emails)
        copied = copy_notifications(plain_db, slip_db)
        say(
            f"backlog: {copied:,} notifications from {2 * args.emails:,} dossier events through the"
            f" handlers in {backlog_seconds:.1f} s ({2 * args.emails / backlog_seconds:.0f} events/s)"
        )

        say(email_header())
        runs: dict[str, EmailRun] = {}
        variants: list[tuple[str, Db, Callable[[Document], list[Attachment]]]] = [
            ("plain", plain_db, sending.no_attachments),
            ("slip", slip_db, slip_hook(slip)),
        ]
        for variant, db, hook in variants:
            emails = rendered_emails(db, renderer, mailer, hook)
            label = "without attachment" if variant == "plain" else "with the signed slip"
            baseline = smtplib_run(f"smtplib loop, {label}", mailer, emails, ferretdb, sink)
            sink.empty()
            say(email_row(baseline))
            name = f"notify send_due, {label}"
            notify = notify_run(name, db, mailer, renderer, policy, hook, len(emails), ferretdb, sink)
            sink.empty()
            say(email_row(notify))
            runs[f"baseline_{variant}"], runs[f"notify_{variant}"] = baseline, notify
            del emails

        render_rates: list[float] = []
        signed_rates: list[float] = []
        letters_rate(min(3, args.letters), certs)  # fonts, templates and the signer loaded once
        for round_ in range(args.rounds):
            pair = [(render_rates, None), (signed_rates, certs)]
            for rates, with_certs in pair if round_ % 2 == 0 else pair[::-1]:
                rates.append(letters_rate(args.letters, with_certs))
        return report(args, runs, render_rates, signed_rates, len(slip), backlog_seconds)
    finally:
        sink.stop()
        ferretdb.stop()


def report(
    args: argparse.Namespace,
    runs: dict[str, EmailRun],
    render_rates: list[float],
    signed_rates: list[float],
    slip_bytes: int,
    backlog_seconds: float,
) -> dict[str, object]:
    out = sys.stdout
    result: dict[str, object] = {
        "bench": "notify",
        "emails": args.emails,
        "batch": args.batch or NotifyConfig.send_batch,
        "letters": args.letters,
    }
    out.write("\n")
    below = []
    for variant, label in (("plain", "without attachment"), ("slip", "with the signed slip")):
        base, notify = runs[f"baseline_{variant}"], runs[f"notify_{variant}"]
        ratio = notify.per_s / base.per_s if base.per_s else 0.0
        verdict = "PASS" if ratio >= TARGET else "FAIL"
        out.write(
            f"{'emails ' + label:<40}notify {notify.per_s:>8.1f}/s  smtplib {base.per_s:>8.1f}/s"
            f"  ratio {ratio:.3f}   target >= {TARGET}: {verdict}\n"
        )
        if ratio < TARGET:
            below.append(f"{label} {ratio:.2f}")
        for run in (base, notify):
            if run.received != run.sent or run.sent != args.emails:
                out.write(
                    f"WARNING: {run.name}: {run.sent} sent of {args.emails}, {run.received} in the sink\n"
                )
        if set(notify.statuses) - {"delivered"}:
            out.write(f"WARNING: {notify.name}: {dict(notify.statuses)}\n")
        result[variant] = {
            "notify_per_s": round(notify.per_s, 1),
            "baseline_per_s": round(base.per_s, 1),
            "ratio": round(ratio, 4),
            "delivered": notify.sent,
            "in_sink": notify.received,
            "cpu_ms_per_email": {
                run_name: {part: round(run.cpu_ms_per_email(part), 3) for part in CPU_PARTS}
                for run_name, run in (("baseline", base), ("notify", notify))
            },
        }
    render_rate, signed_rate = statistics.median(render_rates), statistics.median(signed_rates)
    letter_ratio = signed_rate / render_rate if render_rate else 0.0
    rounds = " ".join(f"{s / r:.2f}" for r, s in zip(render_rates, signed_rates, strict=True))
    out.write(
        f"{'letters (mau-01)':<40}rendered and signed {signed_rate:.1f}/s  rendered {render_rate:.1f}/s"
        f"  ratio {letter_ratio:.3f}   (rounds: {rounds})\n"
    )
    if below:
        out.write(
            f"BELOW TARGET: notify sends at {', '.join(below)} of the smtplib loop (target {TARGET}).\n"
        )
    result |= {
        "letters_signed_per_s": round(signed_rate, 2),
        "letters_rendered_per_s": round(render_rate, 2),
        "letters_ratio": round(letter_ratio, 4),
        "slip_bytes": slip_bytes,
        "backlog_events_per_s": round(2 * args.emails / backlog_seconds, 1),
        "target": TARGET,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out.write(json.dumps(result) + "\n")
    out.flush()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--emails", type=int, help=f"notifications in the backlog (default {EMAILS:,})")
    parser.add_argument("--letters", type=int, help=f"letters per measured pass (default {LETTERS})")
    parser.add_argument("--rounds", type=int, help=f"rounds of letter passes (default {ROUNDS})")
    parser.add_argument(
        "--batch", type=int, help="the sender's batch (default notify's SEND_BATCH default, 50)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: " + ", ".join(f"{k} {v}" for k, v in QUICK.items())
    )
    args = parser.parse_args(argv)
    fill_defaults(args, QUICK if args.quick else {"emails": EMAILS, "letters": LETTERS, "rounds": ROUNDS})
    return run_in_workdir(measure, args, binaries=("ferretdb", "mailpit"))


if __name__ == "__main__":
    sys.exit(main())
