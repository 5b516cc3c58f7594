"""Schemathesis against the running service's own /openapi.json: every operation, a bounded
number of examples, zero failures of the three checks. `make fuzz` runs a deeper pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import Settings
from tests.conftest import live_server

# One worker: Schemathesis' threads can trip CPython 3.11's "AST constructor recursion depth
# mismatch" (a race in ast.parse, reached through Hypothesis describing lambdas).
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance"


@pytest.mark.slow
def test_the_api_keeps_to_its_own_openapi_document(settings: Settings) -> None:
    relaxed = {"ASSETMAP_RATE_BULK_PER_S": "1000", "ASSETMAP_RATE_WRITE_PER_S": "1000",
               "ASSETMAP_RATE_SUBMISSION_PER_S": "1000"}  # fmt: skip
    with live_server(settings, **relaxed) as base:
        result = subprocess.run(
            [str(Path(sys.executable).parent / "st"), "run", f"{base}/openapi.json",
             "--checks", CHECKS, "--max-examples", "12", "--workers", "1", "--seed", "20261123",
             "--generation-database", "none", "--request-timeout", "20"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary
    assert "Tested:" in summary
