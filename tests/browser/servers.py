"""What the browser tier runs its pages on: an API under gunicorn as deployed, on a database of
its own in the test store."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from pymongo import MongoClient

from devstack.infra import free_ports, wait_until
from devstack.paths import ROOT, VENV_BIN
from devstack.run import SERVICES
from portal import store as portal_store
from tests.factories import feed_portal_catalogue
from tests.integration.workers import stop


@contextmanager
def gunicorn(wsgi_app: str, env: dict[str, str], log: Path, port: int | None = None) -> Iterator[str]:
    """`wsgi_app` under gunicorn on `port` (else a free one) with `env`; its URL once it is ready."""
    port = port or free_ports(1)[0]
    url = f"http://127.0.0.1:{port}"
    command = [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    with log.open("ab") as out:
        proc = subprocess.Popen([*command, wsgi_app], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def ready() -> bool:
        try:
            return requests.get(f"{url}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        assert wait_until(ready, timeout=60), f"{wsgi_app} did not start:\n{log.read_text()[-3000:]}"
        yield url
    finally:
        stop(proc, grace=20)


def service_env(infra: Any, jwt_keys: tuple[Path, Path], db_name: str, **settings: str) -> dict[str, str]:
    """A service process's environment on the test store and `db_name`, two API processes."""
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


@contextmanager
def scratch_database(infra: Any, prefix: str, prepare: Callable[[Any], None]) -> Iterator[Any]:
    """A new database `<prefix>_<random>` made ready by `prepare`, dropped afterwards."""
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_url, retryWrites=False, tz_aware=True)
    db = client[f"{prefix}_{uuid.uuid4().hex[:8]}"]
    try:
        prepare(db)
        yield db
    finally:
        client.drop_database(db.name)
        client.close()


def prepare_processing(db: Any) -> None:
    """Processing's seed as `make run` loads it: units, procedures, calendar and the demo tenant's
    staff accounts, each with the demo password."""
    from processing import importer

    importer.seed(db, progress=False, demo_staff=True)


def prepare_portal(db: Any) -> None:
    """The portal's indexes and its catalogue fed through its own event handlers."""
    portal_store.ensure_indexes(db)
    feed_portal_catalogue(db)
