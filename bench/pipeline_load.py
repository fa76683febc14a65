"""Load on the running platform: online filings at a fixed rate (open loop: each filing is due at
its time whether or not the earlier ones were answered, and its latency counts from when it was
due), a counter accepting a share of them, a fixed number filed as fast as clients can, and the
emails Mailpit received for them."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import requests
from pipeline_platform import Platform
from urllib3 import encode_multipart_formdata

from tests.factories import online_filing, pdf_bytes

UPLOAD_BYTES = 100 * 1024
ACCEPT_PATIENCE = 60.0  # seconds an accept is retried while processing has not the dossier yet
FRACTION = re.compile(r"\.(\d+)")


@dataclass
class Filing:
    email: str
    due: float  # wall-clock time the filing was due to start
    filed: float | None = None  # when intake answered 201 to the dossier
    code: str | None = None
    error: str | None = None
    accept: bool = False  # the counter accepts this one
    accepted: float | None = None  # when processing answered the accept

    @property
    def latency(self) -> float | None:
        return None if self.filed is None else self.filed - self.due


class Filer:
    """One client's HTTP session and its encoded upload (encoded once, so the client waits)."""

    def __init__(self, platform: Platform) -> None:
        self.intake = platform.url("intake")
        self.session = requests.Session()
        self.upload, content_type = encode_multipart_formdata(
            {"file": ("to-khai.pdf", pdf_bytes(UPLOAD_BYTES), "application/pdf")}
        )
        self.headers = {"Content-Type": content_type}

    def file(self, filing: Filing) -> None:
        try:
            uploaded = self.session.post(
                f"{self.intake}/api/v1/uploads", data=self.upload, headers=self.headers, timeout=60
            )
            if uploaded.status_code != 201:
                filing.error = f"upload {uploaded.status_code}"
                return
            body = online_filing(uploaded.json()["id"])
            body["applicant"] = {**body["applicant"], "email": filing.email}
            filed = self.session.post(f"{self.intake}/api/v1/dossiers", json=body, timeout=60)
            if filed.status_code != 201:
                filing.error = f"dossier {filed.status_code}"
                return
            filing.filed = time.time()
            filing.code = filed.json()["code"]
        except requests.RequestException as exc:
            filing.error = type(exc).__name__


def file_all(platform: Platform, filings: list[Filing], clients: int, paced: bool) -> None:
    """`clients` threads share the filings in order; each filing starts at its due time when
    `paced`, else as soon as a client is free (its due time is then when it started)."""
    taken = iter(filings)
    lock = threading.Lock()

    def client() -> None:
        filer = Filer(platform)
        while True:
            with lock:
                filing = next(taken, None)
            if filing is None:
                return
            if paced:
                time.sleep(max(0.0, filing.due - time.time()))
            else:
                filing.due = time.time()
            filer.file(filing)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def paced(platform: Platform, tag: str, rate: float, seconds: float, accept_every: int) -> list[Filing]:
    """`rate` filings a second for `seconds`; every `accept_every`-th accepted by the counter once
    processing has it. Returns when every filing and accept has been answered."""
    count = max(1, round(rate * seconds))
    start = time.time() + 0.5
    filings = [
        Filing(
            f"{tag}-{n}@bench.example.vn", start + n / rate, accept=accept_every > 0 and n % accept_every == 0
        )
        for n in range(count)
    ]
    counter = threading.Thread(target=accept_all, args=(platform, filings), daemon=True)
    counter.start()
    # Enough clients that a second's filings are all under way even at a second each.
    file_all(platform, filings, min(96, max(8, round(rate * 1.5))), paced=True)
    counter.join()
    return filings


def accept_all(platform: Platform, filings: list[Filing]) -> None:
    """The counter accepts the marked filings in order, each once processing has it (404 before)."""
    session = requests.Session()
    base = f"{platform.url('processing')}/api/v1/dossiers"
    for filing in (f for f in filings if f.accept):
        deadline = filing.due + ACCEPT_PATIENCE
        while filing.code is None and filing.error is None and time.time() < deadline:
            time.sleep(0.05)
        while filing.code and time.time() < deadline:
            try:
                answer = session.post(
                    f"{base}/{filing.code}/actions/accept", json={}, headers=platform.officer, timeout=30
                )
            except requests.RequestException:
                continue
            if answer.status_code == 200:
                filing.accepted = time.time()
                break
            if answer.status_code != 404:
                filing.error = f"accept {answer.status_code}"
                break
            time.sleep(0.1)


def as_fast_as_possible(platform: Platform, tag: str, count: int, clients: int) -> list[Filing]:
    """`count` filings by `clients` clients, each filing as soon as its last was answered."""
    filings = [Filing(f"{tag}-{n}@bench.example.vn", 0.0) for n in range(count)]
    file_all(platform, filings, clients, paced=False)
    return filings


def mailpit_time(created: str) -> float:
    """Mailpit's `Created` (RFC 3339, up to nanoseconds) as a POSIX time."""
    text = FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), created, count=1)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def mail_kind(subject: str) -> str:
    if subject.startswith("Đã nhận hồ sơ"):
        return "received"
    if subject.startswith("Hồ sơ") and "đã được tiếp nhận" in subject:
        return "accepted"
    return "other"


def mail_times(platform: Platform) -> dict[tuple[str, str], float]:
    """(address, "received" | "accepted") → when the first such email reached Mailpit."""
    api = platform.sink.api_url
    found: dict[tuple[str, str], float] = {}
    start = 0
    while True:
        answer = requests.get(f"{api}/api/v1/messages", params={"start": start, "limit": 1000}, timeout=60)
        answer.raise_for_status()
        messages = json.loads(answer.content).get("messages") or []
        for message in messages:
            subject = message.get("Subject", "")
            kind = mail_kind(subject)
            for to in message.get("To") or []:
                key = (to["Address"], kind)
                at = mailpit_time(message["Created"])
                found[key] = min(at, found.get(key, at))
        if len(messages) < 1000:
            return found
        start += len(messages)
