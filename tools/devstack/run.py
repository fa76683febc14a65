"""`make run`: Kafka, FerretDB and Mailpit (unless external ones are given), then every service's
API and worker under honcho; waits until all are ready, prints the URLs and a token per role,
and stops everything on Ctrl-C. Data is kept under .local/data between runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from devstack.certificates import ensure_unit_certificates
from devstack.infra import FerretDB, Kafka, Mailpit, ManagedProcess, StartError, check_installed, wait_until
from devstack.paths import LOCAL, ROOT, VENV_BIN
from devstack.tokens import ensure_keypair, processing_token
from eventkit.config import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER
from processing.service.staff import DEMO_PASSWORD

DEFAULT_UNIT = "264"  # Lương Tài district (GSO code)
SERVICES = ("portal", "intake", "processing", "notify")
DEFAULT_PORTS = {
    "PORTAL_PORT": 8000,
    "INTAKE_PORT": 8001,
    "PROCESSING_PORT": 8002,
    "NOTIFY_PORT": 8003,
    "PORTAL_WORKER_PORT": 9000,
    "INTAKE_WORKER_PORT": 9001,
    "PROCESSING_WORKER_PORT": 9002,
    "NOTIFY_WORKER_PORT": 9003,
    "KAFKA_PORT": 9092,
    "KAFKA_CONTROLLER_PORT": 9093,
    "MONGO_PORT": 27017,
    "SMTP_PORT": 1025,
    "MAILPIT_PORT": 8025,
}
# The demo accounts (seeded by `--demo-staff`) whose tokens the banner prints: the town of Thứa's
# counter, specialist and leader, and the district's administrator.
BANNER_ACCOUNTS = ("tn.09496", "cv1.09496", "ld.09496", "quantri")
STAFF_SEED = ROOT / "services" / "processing" / "processing" / "seed" / "staff.json"


# The postal operator's reports are signed with this key on a development platform.
DEV_POSTAL_HMAC_KEY = "khoa-buu-chinh-phat-trien"


def ports_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, int]:
    return {name: int(environ.get(name, default)) for name, default in DEFAULT_PORTS.items()}


def api_url(service: str, ports: Mapping[str, int]) -> str:
    return f"http://127.0.0.1:{ports[f'{service.upper()}_PORT']}"


def worker_url(service: str, ports: Mapping[str, int]) -> str:
    return f"http://127.0.0.1:{ports[f'{service.upper()}_WORKER_PORT']}"


@dataclass
class Endpoints:
    mongo_url: str
    kafka_bootstrap: str
    smtp_url: str
    mailpit_api: str | None


def infra_processes(data_dir: Path, ports: Mapping[str, int]) -> tuple[Kafka, FerretDB, Mailpit]:
    return (
        Kafka(
            "kafka",
            data_dir / "kafka",
            port=ports["KAFKA_PORT"],
            controller_port=ports["KAFKA_CONTROLLER_PORT"],
        ),
        FerretDB("ferretdb", data_dir / "ferretdb", port=ports["MONGO_PORT"]),
        Mailpit(
            "mailpit", data_dir / "mailpit", smtp_port=ports["SMTP_PORT"], http_port=ports["MAILPIT_PORT"]
        ),
    )


def service_env(
    endpoints: Endpoints,
    ports: Mapping[str, int],
    public_key: Path,
    data_dir: Path,
    signing_certs: Path | None = None,
) -> dict[str, str]:
    """The services' environment; files (intake's uploads, processing's results) are kept in a folder
    per service under `data_dir` unless BLOB_URL / PROCESSING_BLOB_URL / NOTIFY_BLOB_URL are set,
    and processing signs results with the unit certificates under `signing_certs` when given."""
    paths = [ROOT / "libs" / "eventkit", ROOT / "libs" / "webui", *(ROOT / "services" / s for s in SERVICES)]
    env = {
        **os.environ,
        **{name: str(value) for name, value in ports.items()},
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MONGO_URL": endpoints.mongo_url,
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "SMTP_URL": endpoints.smtp_url,
        # The services trust the development key pair and the claims its tokens carry.
        "JWT_PUBLIC_KEY_FILE": str(public_key),
        "JWT_ISSUER": DEFAULT_JWT_ISSUER,
        "JWT_AUDIENCE": DEFAULT_JWT_AUDIENCE,
        # Intake, notify and the portal verify processing's tokens (they name their key, `kid`)
        # against its key set; tokens without a `kid` (tests, tools) against the key above.
        "JWT_JWKS_URL": os.environ.get("JWT_JWKS_URL")
        or f"{api_url('processing', ports)}/.well-known/jwks.json",
        # Processing keeps the keys that sign staff tokens encrypted with this (development only).
        "STAFF_KEYS_SECRET": os.environ.get("STAFF_KEYS_SECRET") or "khoa-ma-xac-thuc-phat-trien",
        # Each service its own files: BLOB_URL is intake's, PROCESSING_BLOB_URL processing's.
        "BLOB_URL": os.environ.get("BLOB_URL") or (data_dir / "blobs" / "intake").as_uri(),
        "PROCESSING_BLOB_URL": os.environ.get("PROCESSING_BLOB_URL")
        or (data_dir / "blobs" / "processing").as_uri(),
        # Notify's signed letters and print batches.
        "NOTIFY_BLOB_URL": os.environ.get("NOTIFY_BLOB_URL") or (data_dir / "blobs" / "notify").as_uri(),
        # The portal's cover images and directive documents' PDFs.
        "PORTAL_BLOB_URL": os.environ.get("PORTAL_BLOB_URL") or (data_dir / "blobs" / "portal").as_uri(),
        # The postal operator's reports are signed with this key (development only).
        "POSTAL_HMAC_KEY": os.environ.get("POSTAL_HMAC_KEY") or DEV_POSTAL_HMAC_KEY,
        # Processing links a dossier's documents to their download at intake.
        "INTAKE_URL": os.environ.get("INTAKE_URL") or api_url("intake", ports),
        # The console links to notify's slips and registers.
        "NOTIFY_URL": os.environ.get("NOTIFY_URL") or api_url("notify", ports),
        # The portal's filing pages call intake with the citizen's address in X-Forwarded-For:
        # intake trusts one proxy hop, so its upload limit counts citizens, not the portal.
        "PROXY_HOPS": os.environ.get("PROXY_HOPS") or "1",
        # Notify's emails link to the dossier lookup on the portal.
        "PORTAL_URL": os.environ.get("PORTAL_URL") or api_url("portal", ports),
        "PYTHONUNBUFFERED": "1",
    }
    if endpoints.mailpit_api:
        env["MAILPIT_API_URL"] = endpoints.mailpit_api
    if signing_certs:
        env["SIGNING_CERTS_DIR"] = str(signing_certs)
        # The portal's signature check trusts what the development CA issued (its root only).
        env["SIGNING_TRUST_ROOTS"] = str(signing_certs / "ca.pem")
    return env


def start_services(env: Mapping[str, str], log_path: Path | None = None) -> subprocess.Popen[bytes]:
    """Every service's API and worker from the Procfile, under one honcho process."""
    output = log_path.open("ab") if log_path else None
    try:
        return subprocess.Popen(
            [str(VENV_BIN / "honcho"), "start", "-f", str(ROOT / "Procfile"), "-d", str(ROOT)],
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=output is not None,
        )
    finally:
        if output:
            output.close()


def stop_services(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def seed_demo_data(env: Mapping[str, str]) -> None:
    """Lương Tài's units, the procedure catalogue and the calendar; a second run changes nothing."""
    subprocess.run(
        [str(VENV_BIN / "python"), "-m", "processing.importer", "--seed", "--demo-staff", "--no-progress"],
        env=dict(env),
        cwd=ROOT,
        check=True,
    )


def readiness_urls(ports: Mapping[str, int]) -> dict[str, str]:
    urls = {}
    for service in SERVICES:
        urls[f"{service} API"] = f"{api_url(service, ports)}/readyz"
        urls[f"{service} worker"] = f"{worker_url(service, ports)}/readyz"
    return urls


def wait_services_ready(ports: Mapping[str, int], timeout: float = 120.0) -> list[str]:
    """Wait until every API and worker answers /readyz with 200; returns those that never did."""
    pending = readiness_urls(ports)

    def check() -> bool:
        for name, url in list(pending.items()):
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    del pending[name]
            except requests.RequestException:
                pass
        return not pending

    wait_until(check, timeout, interval=0.5)
    return sorted(pending)


def external_endpoints(ports: Mapping[str, int]) -> tuple[Endpoints, list[str]]:
    """Endpoints from MONGO_URL / KAFKA_BOOTSTRAP_SERVERS / SMTP_URL, and what must run locally."""
    local = []
    mongo = os.environ.get("MONGO_URL")
    if not mongo:
        local.append("ferretdb")
        mongo = f"mongodb://127.0.0.1:{ports['MONGO_PORT']}/"
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not kafka:
        local.append("kafka")
        kafka = f"127.0.0.1:{ports['KAFKA_PORT']}"
    smtp = os.environ.get("SMTP_URL")
    if not smtp:
        local.append("mailpit")
        smtp = f"smtp://127.0.0.1:{ports['SMTP_PORT']}"
    mailpit = f"http://127.0.0.1:{ports['MAILPIT_PORT']}" if "mailpit" in local else None
    return Endpoints(mongo, kafka, smtp, mailpit), local


def demo_account(user_id: str) -> dict[str, Any] | None:
    """The demo staff account `user_id` of the processing seed, if there is one."""
    accounts = json.loads(STAFF_SEED.read_text(encoding="utf-8"))["items"]
    return next((a for a in accounts if a["user_id"] == user_id), None)


def print_banner(ports: Mapping[str, int], endpoints: Endpoints, env: Mapping[str, str]) -> None:
    """Where everything runs, how officers sign in, and tokens signed with processing's key set."""
    lines = ["", "MotCua is running. Ctrl-C stops everything.", ""]
    for service in SERVICES:
        base = api_url(service, ports)
        lines.append(f"  {service:<11} {base}   (API docs {base}/docs, worker {worker_url(service, ports)})")
    lines += [
        "",
        f"  Kafka       {endpoints.kafka_bootstrap}",
        f"  MongoDB     {endpoints.mongo_url}",
        f"  SMTP        {endpoints.smtp_url}",
    ]
    if endpoints.mailpit_api:
        lines.append(f"  Mailpit API {endpoints.mailpit_api}/api/v1/messages")
    lines += [
        "",
        f"Staff console {api_url('processing', ports)}/console/ : sign in with a demo account,"
        f" password {DEMO_PASSWORD}",
        "",
        "Staff tokens of demo accounts, for 'Authorization: Bearer <token>'"
        " (another: make token USER_ID=cv2.09499):",
    ]
    for user_id in BANNER_ACCOUNTS:
        account = demo_account(user_id)
        assert account is not None, user_id
        units = account["units"]
        where = ", ".join(units) if len(units) <= 3 else f"{len(units)} units"
        token = processing_token(env, account)
        lines += [f"  {user_id}: {account['name']}, {'/'.join(account['roles'])} ({where})", f"    {token}"]
    editor = {
        "user_id": f"bientap.{DEFAULT_UNIT}",
        "name": "Biên tập viên",
        "roles": ["editor"],
        "units": [DEFAULT_UNIT],
    }
    lines += [f"  portal editor of {DEFAULT_UNIT}:", f"    {processing_token(env, editor)}"]
    print("\n".join(lines), flush=True)


def main() -> int:
    check_installed()
    ports = ports_from_env()
    endpoints, local = external_endpoints(ports)
    _, public_key = ensure_keypair()
    # Development certificates unless SIGNING_CERTS_DIR points at others (it passes through).
    signing_certs = None if os.environ.get("SIGNING_CERTS_DIR") else ensure_unit_certificates()
    data_dir = LOCAL / "data"
    infra: list[ManagedProcess] = [p for p in infra_processes(data_dir, ports) if p.name in local]
    honcho: subprocess.Popen[bytes] | None = None
    stopping = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        for process in infra:
            process.start()
        for process in infra:
            process.wait_ready()
            print(f"{process.name} ready (log {process.log_path})", flush=True)
        env = service_env(endpoints, ports, public_key, data_dir, signing_certs)
        seed_demo_data(env)
        honcho = start_services(env)
        not_ready = wait_services_ready(ports)
        if not_ready:
            print(f"not ready: {', '.join(not_ready)}", file=sys.stderr, flush=True)
            return 1
        from devstack import demo  # it builds on this module

        demo.seed_on_start(env, ports, stop=lambda: stopping)
        if stopping:
            return 0
        print_banner(ports, endpoints, env)
        while not stopping and honcho.poll() is None:
            time.sleep(0.5)
        return 0 if stopping else 1
    except StartError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        if honcho is not None:
            stop_services(honcho)
        for process in reversed(infra):
            process.stop()
