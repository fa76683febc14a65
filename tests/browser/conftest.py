"""The browser tier: the portal's API as a real gunicorn process on the test store, driven by
Debian's Chromium through Playwright, pages checked with axe-core.

Installed by `make test` (deploy/local/install.sh); nothing here is skipped: a missing browser or
axe-core fails the tests that need it.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from pymongo import MongoClient

from devstack.infra import free_ports, wait_until
from devstack.paths import LOCAL, ROOT, VENV_BIN
from devstack.run import SERVICES
from portal import store as portal_store
from tests.factories import feed_portal_catalogue

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
AXE = LOCAL / "node" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = LOCAL / "artifacts" / "portal"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Portal:
    url: str
    log: Path


@pytest.fixture(scope="module")
def portal(infra, jwt_keys, tmp_path_factory) -> Iterator[Portal]:
    """The portal API under gunicorn, its catalogue fed through its own event handlers."""
    name = f"test_portal_web_{uuid.uuid4().hex[:8]}"
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_url, retryWrites=False, tz_aware=True)
    db = client[name]
    portal_store.ensure_indexes(db)
    feed_portal_catalogue(db)
    [port] = free_ports(1)
    paths = [ROOT / "libs" / "eventkit", ROOT / "libs" / "webui", *(ROOT / "services" / s for s in SERVICES)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        "MONGO_URL": infra.mongo_url,
        "MONGO_DB": name,
        "JWT_PUBLIC_KEY_FILE": str(jwt_keys[1]),
        "PORTAL_URL": f"http://127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
    }
    log = tmp_path_factory.mktemp("portal") / "gunicorn.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                "deploy/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "portal.wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return requests.get(f"{url}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        assert wait_until(ready, timeout=60), f"portal did not start:\n{log.read_text()[-3000:]}"
        yield Portal(url=url, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        client.drop_database(name)
        client.close()


# Per module, not per session: Playwright's sync API keeps an event loop running in this thread
# while it is open, and the tests after the browser tier sign PDFs with pyHanko (`asyncio.run`).
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make install` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def axe_source() -> Path:
    if not AXE.is_file():
        pytest.fail(f"axe-core is not installed at {AXE}: run `make install`")
    return AXE


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@dataclass
class Api:
    url: str
    db: Any
    log: Path


@contextmanager
def gunicorn(wsgi_app: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """`wsgi_app` under gunicorn on a free port with `env`; its URL once it is ready."""
    [port] = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                "deploy/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                wsgi_app,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def ready() -> bool:
        try:
            return requests.get(f"{url}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        assert wait_until(ready, timeout=60), f"{wsgi_app} did not start:\n{log.read_text()[-3000:]}"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _service_env(infra: Any, jwt_keys: tuple[Path, Path], db_name: str, **settings: str) -> dict[str, str]:
    paths = [ROOT / "libs" / "eventkit", ROOT / "libs" / "webui", *(ROOT / "services" / s for s in SERVICES)]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        "MONGO_URL": infra.mongo_url,
        "MONGO_DB": db_name,
        "JWT_PUBLIC_KEY_FILE": str(jwt_keys[1]),
        "GUNICORN_WORKERS": "2",
        **settings,
    }


@pytest.fixture(scope="module")
def intake_api(infra, jwt_keys, tmp_path_factory) -> Iterator[Api]:
    """Intake's API under gunicorn on its own database of the test store, its catalogue filled as
    its worker would; behind the portal (PROXY_HOPS=1). It writes its outbox; no worker runs."""
    from intake import store as intake_store
    from tests.factories import fill_catalogue_projection

    name = f"test_intake_web_{uuid.uuid4().hex[:8]}"
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_url, retryWrites=False, tz_aware=True)
    db = client[name]
    intake_store.ensure_indexes(db)
    fill_catalogue_projection(db)
    folder = tmp_path_factory.mktemp("intake")
    env = _service_env(infra, jwt_keys, name, BLOB_URL=(folder / "blobs").as_uri(), PROXY_HOPS="1")
    try:
        with gunicorn("intake.wsgi:app", env, folder / "gunicorn.log") as url:
            yield Api(url=url, db=db, log=folder / "gunicorn.log")
    finally:
        client.drop_database(name)
        client.close()


@pytest.fixture(scope="module")
def filing_portal(infra, jwt_keys, tmp_path_factory, intake_api) -> Iterator[Api]:
    """The portal under gunicorn sending its filings to `intake_api`."""
    name = f"test_portal_filing_{uuid.uuid4().hex[:8]}"
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_url, retryWrites=False, tz_aware=True)
    db = client[name]
    portal_store.ensure_indexes(db)
    feed_portal_catalogue(db)
    folder = tmp_path_factory.mktemp("portal-filing")
    env = _service_env(infra, jwt_keys, name, INTAKE_URL=intake_api.url)
    try:
        with gunicorn("portal.wsgi:app", env, folder / "gunicorn.log") as url:
            yield Api(url=url, db=db, log=folder / "gunicorn.log")
    finally:
        client.drop_database(name)
        client.close()
