"""The seller API fuzzed from its own OpenAPI document (schemathesis): no server errors, and no
answer that contradicts the document (status codes, content types, bodies), with a key of the
shop that holds the orders and requests the fuzzer's numbers may hit.

Bounded: API_FUZZ_EXAMPLES per operation (default 25)."""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api import keys
from api.v1 import api
from returns.tests.factories import delivered_order, open_return
from shops.tests.factories import ShopFactory

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))
schema.app = get_wsgi_application()  # every call, the checks' own included, goes in-process
CI = os.environ.get("CI") == "true"  # the same examples every CI run; new ones on every local run
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))


@pytest.fixture
def _keep_connection():
    """Calls go through the WSGI handler, which closes the database connection after each request
    (and with it the test's transaction, on PostgreSQL); Django's test client avoids it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db, _keep_connection):
    shop = ShopFactory()
    order = delivered_order(shop, number="R000001")
    open_return(order)
    _, clear = keys.create_key(shop=shop, name="fuzz", scopes=["orders:read", "orders:write", "returns:read",
                                                                 "returns:write", "buyer:full_address",
                                                                 "webhooks:manage"])
    return {"Authorization": f"Bearer {clear}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=CI,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_answers_as_its_schema_says(case, bearer):
    # Opaque page tokens cannot be described by a schema: a schema-valid string the API never
    # issued is rightly a 400, so "valid data must be accepted" does not apply to this API.
    case.call_and_validate(headers=bearer, excluded_checks=[positive_data_acceptance])
