"""Intake's OpenAPI document drives generated requests, valid and invalid: no input may cause a
server error or an answer that breaks the documented schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_makes_intake_fail(intake_app, intake_catalogue, mode):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", intake_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/dossiers", "/api/v1/uploads", "/api/v1/procedures"}
    exercised = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def exercise(case):
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        try:
            exercise()
        except Unsatisfiable:
            # Nothing of this operation can be made invalid (e.g. /healthz, a free-text path part).
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        exercised.append(operation.label)
    assert {"POST /api/v1/dossiers", "POST /api/v1/uploads"} <= set(exercised)
