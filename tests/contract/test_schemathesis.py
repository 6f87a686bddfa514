"""The OpenAPI schema tells the truth, checked from outside by schemathesis.

A real server (daphne, on the PostgreSQL test database) is fuzzed over every
operation of /api/schema, once with a staff token and once with a broker's, with
the checks below and every phase (examples, coverage, fuzzing, stateful). Any
failure fails this test with schemathesis's own report.

Budget (CI on 2 cores, under ~4 minutes for both roles): SCHEMATHESIS_MAX_EXAMPLES
(default 100) generated cases per operation in the fuzzing phase, a fixed seed so a
run is reproducible, no shrinking (a failure is reported as found), and the stateful
phase bounded by the same example count.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from tests.browser.servers import DaphneServer
from tests.conftest import requires_postgres
from tests.factories import (
    AgencyFactory,
    ClaimFactory,
    CustomerFactory,
    PolicyFactory,
    UserFactory,
)

pytestmark = [requires_postgres]

ST = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "st"
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,negative_data_rejection")
PHASES = "examples,coverage,fuzzing,stateful"
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "100"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20241231"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "schemathesis"


@pytest.fixture
def api_server(transactional_db, tmp_path):
    # The server production runs (the Procfile's uvicorn): daphne answers a malformed
    # multipart body itself, with a bare 400, before the application sees it.
    server = DaphneServer(
        server="uvicorn",
        media_root=tmp_path / "media", log_path=tmp_path / "server.log",
        extra_env={
            # Tokens outlive the run; throttles and the login lockout stay on (429 is
            # part of the contract) but with room for the run's own request rate.
            "JWT_ACCESS_MINUTES": "120",
            "THROTTLE_USER": "100000/minute",
            "THROTTLE_ANON": "100000/minute",
            "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        },
    )
    yield server
    server.stop()


def _book():
    """Two agencies with customers, policies and claims, so reads find rows."""
    staff = UserFactory(staff=True, email="fuzz.staff@example.test")
    agency = AgencyFactory(name="Fuzz Brokers")
    broker = UserFactory(agency=agency, email="fuzz.broker@example.test")
    for owner in (agency, AgencyFactory(name="Other Brokers")):
        for _ in range(2):
            policy = PolicyFactory(customer=CustomerFactory(broker=owner))
            ClaimFactory(policy=policy)
    return {"staff": staff, "broker": broker}


def _run(server, role: str, token: str, report_dir: Path) -> subprocess.CompletedProcess:
    command = [
        str(ST), "run", f"{server.url}/api/schema?format=json",
        "--checks", CHECKS,
        "--phases", PHASES,
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--no-shrink",
        "--generation-database", "none",
        "--workers", "2",
        "--request-timeout", "30",
        "--header", f"Authorization: Bearer {token}",
        "--suppress-health-check", "all",
        "--report", "junit",
        "--report-dir", str(report_dir / role),
        "--output-truncate", "true",
    ]
    env = {**os.environ, "NO_COLOR": "1",
           "SCHEMATHESIS_HOOKS": str(Path(__file__).with_name("st_hooks.py"))}
    # Run from a scratch folder: schemathesis keeps its cache in the working directory.
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=900,
                          check=False, cwd=report_dir)


@pytest.mark.parametrize("role", ["staff", "broker"])
def test_schema_holds_under_schemathesis(api_server, role, tmp_path):
    users = _book()
    token = str(RefreshToken.for_user(users[role]).access_token)
    result = _run(api_server, role, token, tmp_path)
    summary = [line for line in result.stdout.splitlines()
               if "passed" in line or "failed" in line or "error" in line.lower()]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{role}.txt").write_text(result.stdout + result.stderr)
    (ARTIFACTS / f"{role}-server.log").write_text(api_server.log())
    junit = tmp_path / role
    if junit.exists():
        shutil.copytree(junit, ARTIFACTS / role, dirs_exist_ok=True)
    print(f"schemathesis ({role}): " + json.dumps(summary[-3:]))
    assert result.returncode == 0, (
        f"schemathesis found failures as {role}:\n{result.stdout[-20000:]}\n"
        f"{result.stderr[-3000:]}\n--- server log ---\n{api_server.log()[-5000:]}")
