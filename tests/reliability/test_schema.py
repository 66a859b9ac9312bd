"""Schemathesis over the app's own OpenAPI schema (`/openapi.json`), every operation, on
SQLite and PostgreSQL: valid and invalid requests alike get no 5xx, and every response —
errors included — has a status, a media type and a body that the schema declares."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.web.conftest import Site

pytestmark = pytest.mark.timeout(120)

# Every operation of the schema; a new API route must be added here (and is then fuzzed).
OPERATIONS = [
    "GET /checkpoint",
    "GET /vkey",
    "GET /api/v1/entries/{index}",
    "GET /api/v1/entries",
    "GET /api/v1/proof/{index}",
    "GET /api/v1/consistency",
    "GET /api/v1/commitments",
    "GET /api/v1/commitments/{slug}/signatures",
    "GET /api/v1/commitments/{slug}/signatures.csv",
    "GET /api/v1/commitments/{slug}/signatures.xlsx",
    "GET /api/v1/verify/{index}",
    "POST /api/v1/verify",
    "GET /certificates/{index}.pdf",
    "GET /commitments/{slug}/certificate.pdf",
    "GET /commitments/{slug}/naskah.pdf",
    "GET /api/v1/apps",
    "GET /api/v1/apps.csv",
    "GET /api/v1/apps/{app}",
    "GET /aplikasi/{app}/lampiran/{sha256}",
    "GET /aplikasi/{app}/rekomendasi.pdf",
]
EXAMPLES = 25  # per operation and generation mode: bounded, a few seconds an operation


# A request the schema cannot rule out may still ask the impossible (a proof for an index
# beyond the ledger, `old` > `new`): a clear 400 or 404 is right. Any bytes fit the upload's
# schema; only a certificate is accepted (415 not a PDF, 422 not a certificate).
ACCEPTED = ["2xx", "400", "404"]
ACCEPTED_ALSO = {"POST /api/v1/verify": ["415", "422"]}


def _schema(site: Site, label: str | None = None) -> schemathesis.BaseSchema:
    accepted = ACCEPTED + ACCEPTED_ALSO.get(label or "", [])
    config = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {"expected-statuses": accepted}}})
    return schemathesis.openapi.from_asgi("/openapi.json", site.app, config=config)


def test_every_operation_is_fuzzed(site: Site) -> None:
    labels = {op.ok().label for op in _schema(site).get_all_operations()}
    assert labels == set(OPERATIONS), "a new API operation needs a line in OPERATIONS"


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_server_error_and_every_response_as_declared(site: Site, label: str) -> None:
    site.world.sign(1)  # entries of every kind, one of them a signature with a certificate
    method, path = label.split(" ", 1)
    operation = _schema(site, label)[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(
        max_examples=2 * EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(app=site.app)

    run()
