"""Helpers of the notify tests: dossier events as intake and processing send them, the mail
that reached Mailpit, read through its API, and notify's real worker as a process."""

from __future__ import annotations

import time
import uuid
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import requests

from eventkit.envelope import jsonable, new_event
from tests.factories import intake_event
from tests.factories import new_code as new_code  # the tests take it from here too
from tests.integration.workers import service_worker

PROCEDURE = "1.004884"
UNIT = "09496"
OFFICE = "264.TP"


def new_address(name: str = "hoa") -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.vn"


def submitted(
    code: str, email: str | None, channel: str = "online", delivery: str = "counter"
) -> dict[str, Any]:
    return intake_event(
        "submitted",
        code,
        1,
        procedure_code=PROCEDURE,
        procedure_version=1,
        unit=UNIT,
        channel=channel,
        received_by="receptionist-1" if channel == "counter" else None,
        delivery={"method": delivery, "address": "Thị trấn Thứa, Lương Tài, Bắc Ninh"},
        documents=[],
        applicant={
            "full_name": "Nguyễn Thị Hoa",
            "id_number": "027190001234",
            "phone": "0912345678",
            "email": email,
            "address": "Thị trấn Thứa, Lương Tài, Bắc Ninh",
        },
        form={},
        submitted_at="2023-10-27T09:32:00+07:00",
        lookup_secret_hash="x",
    )


def processing_event(
    verb: str, code: str, sequence: int, state: str, unit: str = UNIT, **data: Any
) -> dict[str, Any]:
    return new_event(
        type=f"vn.motcua.processing.dossier.{verb}.v1",
        source="/services/processing",
        subject=code,
        data=jsonable(
            {
                "code": code,
                "unit": unit,
                "receiving_unit": UNIT,
                "procedure_code": PROCEDURE,
                "channel": "online",
                "state": state,
                "by": "leader-1",
                "at": "2023-10-30T10:00:00+07:00",
                "sequence": sequence,
                **data,
            }
        ),
        sequence=sequence,
    )


def accepted(code: str, sequence: int = 1, email: str | None = None, **data: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if email is not None:
        extra = {
            "applicant": {"full_name": "Nguyễn Thị Hoa", "email": email},
            "delivery": {"method": "counter", "address": None},
        }
    return processing_event(
        "accepted",
        code,
        sequence,
        "accepted",
        received_at="2023-10-27T09:32:00+07:00",
        due_at="2023-11-03T09:32:00+07:00",
        procedure_name="Đăng ký lại việc khai sinh",
        documents=[],
        received_by="receptionist-1",
        **extra,
        **data,
    )


class Mailbox:
    """What reached Mailpit, through its REST API."""

    def __init__(self, api_url: str) -> None:
        self.api = api_url.rstrip("/")

    def to(self, address: str) -> list[dict[str, Any]]:
        answer = requests.get(
            f"{self.api}/api/v1/search", params={"query": f"to:{address}", "limit": 200}, timeout=5
        )
        answer.raise_for_status()
        summaries = answer.json()["messages"] or []
        return [self.message(summary["ID"]) for summary in summaries]

    def message(self, message_id: str) -> dict[str, Any]:
        answer = requests.get(f"{self.api}/api/v1/message/{message_id}", timeout=5)
        answer.raise_for_status()
        message: dict[str, Any] = answer.json()
        headers = requests.get(f"{self.api}/api/v1/message/{message_id}/headers", timeout=5)
        headers.raise_for_status()
        message["headers"] = headers.json()
        return message

    def wait_for(self, address: str, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        messages = self.to(address)
        while len(messages) < count and time.monotonic() < deadline:
            time.sleep(0.3)
            messages = self.to(address)
        return messages


class CountingProxy:
    """A TCP relay in front of an SMTP server that counts the connections made through it."""

    def __init__(self, target_port: int) -> None:
        import socket
        import threading

        self.target_port = target_port
        self.connections = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        import socket
        import threading

        self.server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: Any, sink: Any) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(2)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self.server.close()
        self._thread.join(2)


def notify_worker(
    service_environ: dict[str, str], log: Path, **settings: str
) -> AbstractContextManager[Path]:
    """`python -m notify.worker` with the platform's environment and `settings`; its log file."""
    return service_worker("notify", service_environ, log, **settings)
