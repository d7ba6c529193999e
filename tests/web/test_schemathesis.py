"""Issue 12: schemathesis against the app's own /openapi.json (ASGI, the real KB): every operation, positive and
negative examples, a fixed seed, 100 examples per operation, every check (no 5xx, status codes and content types
documented, response bodies conform to the schema, invalid data rejected, valid data accepted).

One documented exception: POST /api/score may refuse schema-valid data with 422 `bad_date` for a rule JSON Schema
cannot state (dates of service inside the model year, the year before `payment_year`; a date of birth not after
February 1 of the payment year); any other 4xx there is a failure. Takes about a minute (marked slow, kept in the
default run).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hccguide.kb.open import KB
from hccguide.web.app import create_app

# Rules of ScoreRequest that depend on another field's value (raf/request.py docstring), not expressible in the schema.
CROSS_FIELD_DATE_FIELDS = ("date_of_service", "date_of_birth", "dx[")


@pytest.fixture(scope="module")
def api_schema(served_kb: KB):  # type: ignore[no-untyped-def]
    """The schema as the app serves it over the test KB (enums of loaded code sets and payment years included)."""
    return schemathesis.openapi.from_asgi("/openapi.json", create_app())


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=100, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case) -> None:  # type: ignore[no-untyped-def]
    if case.operation.path == "/api/score":
        response = case.call()
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
        meta = case.meta
        if meta is not None and meta.generation.mode.is_positive and response.status_code >= 400:
            err = response.json()["error"]
            assert response.status_code == 422 and err["code"] == "bad_date", (case.body, err)
            assert str(err["field"]).startswith(CROSS_FIELD_DATE_FIELDS), err
    else:
        case.call_and_validate()
