"""Schemathesis against the app's own OpenAPI document (issue 13, finding 10): every operation with requests
generated from the document (valid ones and invalid ones), once with an Api-Key and once with a creator's
token. The server must never answer 5xx, and every answer must be one the document declares: status code,
content type, headers and body schema.

Bounded for CI (about two minutes on SQLite on two busy cores): a fixed number of examples per operation,
derandomized so that every run sends the same requests. Failures are collected, not shrunk, and listed
together with a curl command to reproduce each one."""

from __future__ import annotations

from collections import Counter
from itertools import product

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.registry import BY_PLURAL, ENTITIES
from app.services import members
from tests.conftest import SUITE

# in-process, but about 5,000 requests (minutes): the full suite runs it, the fast lane does not
pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Examples per operation and generation mode; FESTIVALS_SCHEMATHESIS_EXAMPLES raises it for a longer probe.
EXAMPLES = SUITE.schemathesis_examples
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
SHOWN = 15


@pytest.fixture
def world(app, factory):
    """One object of each entity (a festival with its parts linked), and one more of each for the DELETEs."""
    creator = factory.user("creator")
    objects = {entity: factory.create(entity, creator)[f"{entity}_id"] for entity in ENTITIES}
    doomed = {entity: factory.create(entity, creator)[f"{entity}_id"] for entity in ENTITIES}
    for segment in ("events", "tags", "links", "image", "place"):
        related = ENTITIES["festival"].relations[segment].related
        factory.link("festival", objects["festival"], segment, objects[related], creator)
    editor = factory.user("creator")
    members.add_editor(objects["festival"], editor.email, factory.actor(creator))
    return {
        "objects": objects,
        "doomed": doomed,
        "editor": editor.id,
        "api_key": factory.api_key_headers(),
        "creator": factory.bearer(creator),
    }


def existing_ids(operation, world) -> dict[str, int]:
    """Path parameters naming objects of the world: `/festivals/{id}/tags/{rid}` -> its festival and tag."""
    parts = operation.path.strip("/").split("/")
    spec = BY_PLURAL[parts[0]]
    if len(parts) == 1:
        return {}
    if len(parts) == 2:  # the object itself; a DELETE takes one of its own
        return {"id": world["doomed" if operation.method.upper() == "DELETE" else "objects"][spec.name]}
    ids = {"id": world["objects"][spec.name]}
    if parts[2] == "members":  # /festivals/{id}/members/{uid}: the festival's editor
        return ids | ({"uid": world["editor"]} if len(parts) == 4 else {})
    if len(parts) == 4:
        ids["rid"] = world["objects"][spec.relations[parts[2]].related]
    return ids


def probe(app, world, headers: dict, only_reads: bool) -> tuple[Counter, list[str]]:
    """(answers by status, failures) of every operation of the document, each with generated path ids and
    with ids of existing objects."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    statuses = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if only_reads and operation.method.upper() != "GET":
            continue
        pinned = existing_ids(operation, world)
        for mode, path_parameters in product(MODES, [None, pinned] if pinned else [None]):
            sent = headers
            if path_parameters and operation.method.upper() != "GET":
                sent = {**headers, "If-Match": "*"}  # a generated If-Match would almost always answer 412
            run_operation(operation, mode, path_parameters, sent, statuses, failures)
    return statuses, failures


def run_operation(operation, mode, path_parameters, headers: dict, statuses: Counter, failures: list) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case):
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:  # recorded, not shrunk: the run stays bounded
            for failure in group.exceptions:
                failures.append(
                    f"{operation.label} [{mode}] {failure.title}: {failure.message}"
                    f" ({response.status_code} {response.content[:200]!r})\n    {case.as_curl_command(headers)}"
                )

    try:
        run()
    except Unsatisfiable:  # nothing left to make invalid (e.g. negative mode with every path id pinned)
        pass


def report(who: str, statuses: Counter, failures: list[str]) -> str:
    answers = ", ".join(f"{count} x {status}" for status, count in sorted(statuses.items()))
    shown = "\n".join(failures[:SHOWN])
    return f"{who}: {len(failures)} failures in {statuses.total()} requests ({answers})\n{shown}"


def test_with_an_api_key(app, world):
    statuses, failures = probe(app, world, world["api_key"], only_reads=True)
    print(report("Api-Key", statuses, failures))  # the counts of the last run, for the log
    assert not failures, report("Api-Key", statuses, failures)
    assert statuses[200] > 0 and statuses[400] > 0  # existing objects were read and bad input was refused


def test_with_a_creator_token(app, world):
    statuses, failures = probe(app, world, world["creator"], only_reads=False)
    print(report("creator", statuses, failures))
    assert not failures, report("creator", statuses, failures)
    assert statuses[201] > 0 and statuses[200] > 0 and statuses[400] > 0
