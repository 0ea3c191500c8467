"""The whole OpenAPI schema, fuzzed with schemathesis on both databases: every operation (GET,
POST, PATCH; the multipart upload too), with valid and with invalid data, as the regulator with
a read-and-write token. Every answer: no 5xx, a status code, a content type and a body the
schema documents for the operation; valid data is not refused with a status outside those
:func:`_expected` names.

The GETs share one app over one copy of the world (reads change nothing); each write operation
gets a fresh copy, so that what it writes stays its own.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

import mastplan.api.routes
from mastplan.api.app import create_app
from mastplan.api.security import MAX_FAILURES

API = "/api/v1"
pytestmark = pytest.mark.usefixtures("local_jobs")
#: Examples per operation and mode: enough to reach every parameter, few enough to stay fast.
MAX_EXAMPLES = 12
#: Statuses valid data may get from any operation: refusals of the credential (401, 403), of
#: the rules (403), objects that do not exist (404), moves a state does not allow (409), and
#: semantic checks the schema cannot express (a bbox's min above its max, a day outside
#: 1900-2200: 422).
ALWAYS = ["2xx", "401", "403", "404", "409", "422"]
#: Statuses valid data may also get where the operation documents them: refused by a rule of
#: the data (400), a stale If-Match (412), an upload over the limit or of a type not taken
#: (413, 415), a throttled login (429).
IF_DOCUMENTED = ("400", "412", "413", "415", "429")


def _operations() -> list[tuple[str, str, dict]]:
    """(path, METHOD, operation) of every route module's router under /api/v1, as create_app
    includes them (test_the_fuzzed_operations_are_the_apps checks that they are the app's)."""
    bare = FastAPI()
    for info in pkgutil.iter_modules(mastplan.api.routes.__path__):
        module = importlib.import_module(f"mastplan.api.routes.{info.name}")
        bare.include_router(module.router, prefix=API)
    paths = bare.openapi()["paths"]
    return sorted((path, method.upper(), spec) for path, item in paths.items()
                  for method, spec in item.items())  # fmt: skip


OPERATIONS = _operations()


def _negatable(spec: dict) -> bool:
    """Whether schemathesis can make invalid data for the operation: it takes a body or a
    parameter that not every string satisfies."""
    if "requestBody" in spec:
        return True
    for p in spec.get("parameters", []):
        schema = p.get("schema", {})
        if p["in"] != "header" and (schema.get("type") != "string" or len(schema) > 2):
            return True
    return False


def _expected(spec: dict) -> list[str]:
    return ALWAYS + [code for code in IF_DOCUMENTED if code in spec["responses"]]


#: Statuses that reject invalid data: schemathesis's own list, and a stale or bogus If-Match
#: (412) where documented — pydantic's lax mode takes some values the schema does not (``true``
#: for a number), and such a body reaches the If-Match check.
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429"]


def _rejected(spec: dict) -> list[str]:
    return REJECTED + [code for code in ("412", "413") if code in spec["responses"]]


#: Answers once outside the schema, each now checked by a test of its own below.
LOGIN = f"{API}/auth/login"
MOVE = f"{API}/sharing/requests/{{request_id}}/{{action}}"
PARSE_ERROR = "There was an error parsing the body"


def _param(path: str, method: str, mode: str):
    return pytest.param(path, method, mode, id=f"{path.removeprefix(API)}-{method}-{mode}")


@pytest.fixture(scope="module")
def read_only_app(backend, world):
    """One app for every GET of the run (reads change nothing)."""
    application = create_app(backend.new_url(world.template), secure_cookies=False)
    application.openapi()
    yield application
    application.state.engine.dispose()


@pytest.fixture
def fuzz_app(request, backend, world, read_only_app, tmp_path: Path):
    """The GETs' shared app; for a write, an app over a fresh copy of the world."""
    if request.node.callspec.params["method"] == "GET":
        yield read_only_app
        return
    application = create_app(backend.new_url(world.template), secure_cookies=False)
    application.openapi_schema = read_only_app.openapi()  # the same app: no need to build it
    application.state.jobs_dir = tmp_path / "jobs"
    yield application
    application.state.engine.dispose()


def test_the_fuzzed_operations_are_the_apps(app):
    served = {(method.upper(), path) for path, item in app.openapi()["paths"].items()
              for method in item}  # fmt: skip
    assert {(method, path) for path, method, _ in OPERATIONS} == served


@pytest.mark.parametrize(("path", "method", "mode"), [
    _param(path, method, mode)
    for path, method, spec in OPERATIONS for mode in ("valid", "invalid")
    if mode == "valid" or _negatable(spec)
])  # fmt: skip
def test_every_operation_answers_as_its_schema_says(fuzz_app, world, path, method, mode):
    """No 5xx; status code, content type and body as the schema says; valid data accepted
    (or refused only as :func:`_expected` allows); invalid data rejected."""
    spec = dict(OPERATIONS_BY_KEY[(path, method)])
    config = schemathesis.Config.from_dict({"checks": {
        "positive_data_acceptance": {"expected-statuses": _expected(spec)},
        "negative_data_rejection": {"expected-statuses": _rejected(spec)},
    }})  # fmt: skip
    schema = schemathesis.openapi.from_asgi(f"{API}/openapi.json", fuzz_app, config=config)
    operation = schema[path][method]
    generation = GenerationMode.POSITIVE if mode == "valid" else GenerationMode.NEGATIVE
    headers = {"Authorization": f"Bearer {world.write_tokens['li.reg']}"}

    @given(case=operation.as_strategy(generation_mode=generation))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, headers=headers,
                               transport_kwargs={"headers": headers})  # fmt: skip

    check()


OPERATIONS_BY_KEY = {(path, method): spec for path, method, spec in OPERATIONS}


# --- answers that break the schema, one by one --------------------------------------------------

CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance,
               response_schema_conformance]  # fmt: skip


def conforms(app, path: str, method: str, response, **case) -> None:
    """Whether ``response`` to ``method path`` is one the schema documents (status code,
    content type, body); schemathesis raises its failures otherwise."""
    schema = schemathesis.openapi.from_asgi(f"{API}/openapi.json", app)
    schema[path][method].Case(**case).validate_response(response, checks=CONFORMANCE)


def _sample(spec: dict) -> dict[str, object]:
    """A value for each path parameter of an operation (its first enum value, 1 or "x")."""
    out: dict[str, object] = {}
    for p in spec.get("parameters", []):
        if p["in"] == "path":
            schema = p["schema"]
            out[p["name"]] = schema["enum"][0] if "enum" in schema else (
                1 if schema.get("type") == "integer" else "x")  # fmt: skip
    return out


JSON_BODIES = [(path, method) for path, method, spec in OPERATIONS
               if "application/json" in spec.get("requestBody", {}).get("content", {})]  # fmt: skip


@pytest.mark.parametrize(("path", "method"), [
    pytest.param(path, method, id=f"{path.removeprefix(API)}-{method}")
    for path, method in JSON_BODIES
])  # fmt: skip
def test_a_body_that_is_not_utf8_is_answered_as_documented(read_only_app, world, path, method):
    """FastAPI answers a JSON body it cannot decode with 400 "There was an error parsing the
    body", before any dependency runs: every operation with a JSON body should document it
    (or the app turn it into the 422 of an invalid request)."""
    spec = OPERATIONS_BY_KEY[(path, method)]
    values = _sample(spec)
    client = TestClient(read_only_app)
    r = client.request(method, path.format(**values), content=b"\xff\xfe{",
                       headers={"Content-Type": "application/json", "Authorization":
                                f"Bearer {world.write_tokens['li.reg']}"})  # fmt: skip
    client.close()
    assert r.status_code == 400 and r.json()["detail"] == PARSE_ERROR, r.text
    conforms(read_only_app, path, method, r, path_parameters=values)


def test_a_throttled_login_is_answered_as_documented(app, anon):
    body = {"name": "li.reg", "password": "not the password"}
    for _ in range(MAX_FAILURES):
        assert anon.post(LOGIN, json=body).status_code == 401
    r = anon.post(LOGIN, json=body)
    assert r.status_code == 429, r.text
    conforms(app, LOGIN, "POST", r, body=body)


@pytest.mark.parametrize(("name", "path", "method", "call"), [
    pytest.param("li.reg", MOVE, "POST", {"path_parameters": {"request_id": 999999,
                                                              "action": "withdraw"}},
                 id="a move of a missing request"),
    pytest.param("wang.cmcc", f"{API}/sharing/requests", "POST",
                 {"body": {"structure": "no-such-structure"}},
                 id="a request on a missing structure"),
])  # fmt: skip
def test_a_missing_object_is_answered_as_documented(app, bearer, name, path, method, call):
    client = bearer(name, write=True)
    r = client.request(method, path.format(**call.get("path_parameters", {})),
                       json=call.get("body"))  # fmt: skip
    assert r.status_code == 404, r.text
    conforms(app, path, method, r, **call)


def test_a_request_the_structure_cannot_take_is_answered_as_documented(app, bearer):
    body = {"structure": "T1", "positions": [9]}
    r = bearer("wang.cmcc", write=True).post(f"{API}/sharing/requests", json=body)
    assert r.status_code == 400 and "mount positions" in r.json()["detail"], r.text
    conforms(app, f"{API}/sharing/requests", "POST", r, body=body)


#: A record of each operation the import rules check, refused by them.
# fmt: off
REFUSED_RECORDS = [
    (f"{API}/structures", "POST", {"external_id": "T-flat", "kind": "telecom_tower",
                                   "owner": "china-tower", "lon_deg": 106.571, "lat_deg": 29.558,
                                   "height_m": 0.0, "mount_positions": 3,
                                   "max_payload_kg": 200.0, "available_power_kw": 8.0}),
    (f"{API}/structures/{{external_id}}", "PATCH", {"height_m": 0.0}),
    (f"{API}/scenarios", "POST", {"code": "a b", "name_zh": "港口", "name_en": "Port",
                                  "category": "smart-logistics", "status": "planned",
                                  "year": 2021}),
    (f"{API}/scenarios/{{code}}", "PATCH", {"year": 1800}),
    (f"{API}/enterprises", "POST", {"code": "a b", "name_zh": "企业", "name_en": "Firm",
                                    "segment": "modules", "zone": "liangjiang"}),
    (f"{API}/enterprises/{{code}}", "PATCH", {"district_code": "nowhere"}),
]
# fmt: on


@pytest.mark.parametrize(
    ("path", "method", "body"),
    REFUSED_RECORDS,
    ids=[f"{p.removeprefix(API)}-{m}" for p, m, _ in REFUSED_RECORDS],
)
def test_a_record_the_import_rules_refuse_is_answered_as_documented(app, bearer, path, method,
                                                                     body):  # fmt: skip
    keys = {"external_id": "T1", "code": "demo-scn-01" if "scenarios" in path else "demo-ent-01"}
    client = bearer("li.reg", write=True)
    r = client.request(method, path.format(**keys), json=body)
    assert r.status_code == 422 and r.json()["errors"][0].get("field"), r.text
    params = {k: v for k, v in keys.items() if f"{{{k}}}" in path}
    conforms(app, path, method, r, body=body, path_parameters=params)


#: The creates that answer with the new object's key in ``Location``.
KEYED_CREATES = {
    f"{API}/structures": {"external_id": "渝中-T9", "kind": "telecom_tower",
                          "owner": "china-tower", "lon_deg": 106.571, "lat_deg": 29.558,
                          "height_m": 30.0, "mount_positions": 3, "max_payload_kg": 200.0,
                          "available_power_kw": 8.0},
    f"{API}/scenarios": {"code": "渝中-港口", "name_zh": "港口", "name_en": "Port",
                         "category": "smart-logistics", "status": "planned", "year": 2021},
    f"{API}/enterprises": {"code": "渝中-企业", "name_zh": "企业", "name_en": "Firm",
                           "segment": "modules", "zone": "liangjiang"},
}  # fmt: skip


@pytest.mark.parametrize("path", [pytest.param(p, id=p.removeprefix(API)) for p in KEYED_CREATES])
def test_a_key_in_chinese_is_answered_as_documented(app, world, path):
    token = world.write_tokens["li.reg"]
    client = TestClient(app, raise_server_exceptions=False,
                        headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    r = client.post(path, json=KEYED_CREATES[path])
    client.close()
    assert r.status_code == 201, (r.status_code, r.text)
