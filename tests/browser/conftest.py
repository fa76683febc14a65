"""The browser tier: the portal's API as a real gunicorn process on the test store, driven by
Debian's Chromium through Playwright, pages checked with axe-core.

Installed by `make test` (deploy/local/install.sh); nothing here is skipped: a missing browser or
axe-core fails the tests that need it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack.infra import free_ports
from tests.browser.servers import gunicorn, prepare_portal, prepare_processing, scratch_database, service_env
from tests.chromium import artifacts, axe_source, browser  # noqa: F401  (the tier's fixtures)


@dataclass
class Portal:
    url: str
    log: Path


@pytest.fixture(scope="module")
def portal(infra, jwt_keys, tmp_path_factory) -> Iterator[Portal]:
    """The portal API under gunicorn, its catalogue fed through its own event handlers."""
    [port] = free_ports(1)
    log = tmp_path_factory.mktemp("portal") / "gunicorn.log"
    with scratch_database(infra, "test_portal_web", prepare_portal) as db:
        env = service_env(infra, jwt_keys, db.name, PORTAL_URL=f"http://127.0.0.1:{port}")
        with gunicorn("portal.wsgi:app", env, log, port=port) as url:
            yield Portal(url=url, log=log)


@dataclass
class Console:
    url: str
    log: Path
    db: Any


@pytest.fixture(scope="module")
def console(infra, jwt_keys, signing_certs, tmp_path_factory) -> Iterator[Console]:
    """Processing's API and staff console under gunicorn, seeded as `make run` seeds it (every demo
    account signs in with processing.service.staff.DEMO_PASSWORD)."""
    data = tmp_path_factory.mktemp("console")
    log = data / "gunicorn.log"
    with scratch_database(infra, "test_console_web", prepare_processing) as db:
        env = service_env(
            infra,
            jwt_keys,
            db.name,
            BLOB_URL=(data / "blobs").as_uri(),
            SIGNING_CERTS_DIR=str(signing_certs),
            STAFF_KEYS_SECRET="test secret of the staff token keys",
        )
        with gunicorn("processing.wsgi:app", env, log) as url:
            yield Console(url=url, log=log, db=db)


@dataclass
class Api:
    url: str
    db: Any
    log: Path


@pytest.fixture(scope="module")
def intake_api(infra, jwt_keys, tmp_path_factory) -> Iterator[Api]:
    """Intake's API under gunicorn on its own database of the test store, its catalogue filled as
    its worker would; behind the portal (PROXY_HOPS=1). It writes its outbox; no worker runs."""
    from intake import store as intake_store
    from tests.factories import fill_catalogue_projection

    def prepare(db: Any) -> None:
        intake_store.ensure_indexes(db)
        fill_catalogue_projection(db)

    folder = tmp_path_factory.mktemp("intake")
    with scratch_database(infra, "test_intake_web", prepare) as db:
        env = service_env(infra, jwt_keys, db.name, BLOB_URL=(folder / "blobs").as_uri(), PROXY_HOPS="1")
        with gunicorn("intake.wsgi:app", env, folder / "gunicorn.log") as url:
            yield Api(url=url, db=db, log=folder / "gunicorn.log")


@pytest.fixture(scope="module")
def filing_portal(infra, jwt_keys, tmp_path_factory, intake_api) -> Iterator[Api]:
    """The portal under gunicorn sending its filings to `intake_api`."""
    folder = tmp_path_factory.mktemp("portal-filing")
    with scratch_database(infra, "test_portal_filing", prepare_portal) as db:
        env = service_env(infra, jwt_keys, db.name, INTAKE_URL=intake_api.url)
        with gunicorn("portal.wsgi:app", env, folder / "gunicorn.log") as url:
            yield Api(url=url, db=db, log=folder / "gunicorn.log")
