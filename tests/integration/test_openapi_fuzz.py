"""Every service's OpenAPI document drives generated requests, valid and invalid, with each staff
role's token and with none, under every schemathesis check (the CLI's `--checks all`): no input
may cause a server error or an answer outside the documented schema.

The apps are served from a thread of this process on a free port, on the real store: schemathesis
4.32's in-process WSGI transport breaks the probes of its auth checks (it passes `max_redirects`
to werkzeug's test client), so the run goes over HTTP like the CLI's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from werkzeug.serving import make_server

from devstack.tokens import issue_token
from eventkit.auth import Roles
from eventkit.config import ServiceConfig
from tests.factories import UNIT

pytestmark = pytest.mark.integration

IDENTITIES = [None, *sorted(Roles.ALL)]
# Small and fixed: the whole tier stays within a few minutes on two cores, and reruns alike.
MAX_EXAMPLES = 5
SEED = 20231027

# Operations for which a schema-valid request cannot be accepted by construction, so the check
# that every schema-valid request gets a 2xx (positive_data_acceptance, ST202) is off for them only.
NOT_ACCEPTABLE_BY_CONSTRUCTION = {
    "intake": [
        # A filing names the procedure's own form fields and document types (from the catalogue)
        # and uploads that must exist and be unused; no JSON Schema of the request can say which.
        "POST /api/v1/dossiers",
        # The schema says "a binary file"; the server accepts only real PDF, JPEG and PNG files.
        "POST /api/v1/uploads",
    ],
    "processing": [
        # A procedure's receiving and resolving units must be existing units.
        "POST /api/v1/procedures",
        # The same, and the body's code must be the path's code.
        "PUT /api/v1/procedures/{code}",
        # A unit's parent and successors must be existing units, the parent not the unit itself.
        "POST /api/v1/units",
        "PUT /api/v1/units/{code}",
        # Working sessions must be in order, each starting before it ends and after the one before.
        "PUT /api/v1/calendar/{year}",
        # The fields an action needs, and whether it can be taken, depend on the action in the path
        # and on the dossier's state.
        "POST /api/v1/dossiers/{code}/actions/{action}",
        # The schema says "a binary file"; the server accepts only real PDF files.
        "POST /api/v1/result-files",
        # A period's start must not be after its end, nor the period longer than the limit.
        "GET /api/v1/stats",
        "GET /api/v1/register",
        # The cursor is a position that the page before gave, not any string its pattern allows.
        "GET /api/v1/dossiers",
        # An account's units must be existing units that the administrator serves.
        "POST /api/v1/staff",
        "PUT /api/v1/staff/{user_id}",
    ],
    "notify": [
        # A period's days must be real dates, the start not after the end, at most 366 days.
        "GET /api/v1/register.pdf",
    ],
}


@pytest.fixture
def notify_app(service_environ):
    from notify import create_app
    from notify.config import load_config

    return create_app(load_config(environ=service_environ))


@pytest.fixture
def portal_app(service_environ):
    from portal import create_app

    return create_app(ServiceConfig.from_env("portal", environ=service_environ))


@pytest.fixture
def app_of(request):
    """`app_of("intake")`: the service's app on a fresh database (intake with its catalogue)."""

    def app(service: str) -> Flask:
        if service == "intake":
            request.getfixturevalue("intake_catalogue")
        return request.getfixturevalue(f"{service}_app")

    return app


def serve(app: Flask) -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


# Sequences of calls (create, then read, edit) need an identity that can create: the public
# (filings, uploads) and the administrator (catalogue, calendar). The other roles run every other
# phase, which keeps the tier short.
STATEFUL_IDENTITIES = {None, Roles.ADMIN}


def config_for(service: str, identity: str | None, headers: dict[str, str]) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": headers,
            "checks": {"enabled": True},
            "phases": {"stateful": {"enabled": identity in STATEFUL_IDENTITIES}},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "operations": [
                {"include-name": name, "checks": {"positive_data_acceptance": {"enabled": False}}}
                for name in NOT_ACCEPTABLE_BY_CONSTRUCTION.get(service, [])
            ],
        }
    )


def run(url: str, config: SchemathesisConfig) -> tuple[dict[tuple[str, str], str], list[str], int]:
    """Failures by (operation, failure code) with a curl line to reproduce, errors, scenarios run."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=config)
    failures: dict[tuple[str, str], str] = {}
    errors: list[str] = []
    scenarios = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            scenarios += 1
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    if node.failure_info is not None:
                        failure = node.failure_info.failure
                        failures.setdefault(
                            (str(failure.operation), f"{failure.code} {failure.title}"),
                            f"{failure.message}\n{node.failure_info.code_sample}",
                        )
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            errors.append(repr(event.exception))
    return failures, errors, scenarios


@pytest.mark.parametrize("identity", IDENTITIES, ids=lambda role: role or "no-token")
@pytest.mark.parametrize("service", ["intake", "processing", "notify", "portal"])
def test_no_input_makes_a_service_fail_or_break_its_documented_schema(app_of, jwt_keys, service, identity):
    headers: dict[str, Any] = {}
    if identity is not None:
        token = issue_token([identity], [UNIT], user_id=f"fuzz-{identity}", private_key=jwt_keys[0])
        headers["Authorization"] = f"Bearer {token}"
    for url in serve(app_of(service)):
        failures, errors, scenarios = run(url, config_for(service, identity, headers))
    assert not errors, "\n".join(errors)
    assert not failures, "\n\n".join(f"{op} — {kind}\n{detail}" for (op, kind), detail in failures.items())
    assert scenarios >= 3, "probes and generated requests ran"
