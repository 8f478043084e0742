"""Schemathesis against the service's own OpenAPI document, in-process: valid and invalid inputs
generated from the schema never give a 5xx, and every answer matches the documented responses."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from data_gcp.ranking import RankerModel
from data_gcp.ranking_api import create_app


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
def test_no_server_error_and_responses_match_the_schema(ranker: RankerModel, mode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(model=ranker))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} == {"GET /isalive", "POST /predict"}
    for operation in operations:
        has_input = operation.method.upper() == "POST"
        if mode is schemathesis.GenerationMode.NEGATIVE and not has_input:
            continue  # GET /isalive takes no input to make invalid

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=20 if has_input else 3,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case) -> None:
            case.call_and_validate()

        check()
