"""One shape for every error answer: RFC 9457 problem details.

`problem()` builds every 4xx/5xx response of the hub, whether the error comes from the
rules, from access control, from validation, from the framework (unknown path, wrong
method, body too large) or from a bug. The sentence for the person is in `detail`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse
from starlette.types import Scope

from nowserving.domain.errors import NotFound, OverBudget, Rejected, StoreError, StoreFullError
from nowserving.service.interface import Expired

MEDIA_TYPE = "application/problem+json"
# Statuses every operation may answer with, documented in OpenAPI with the Problem model.
ERROR_STATUSES = (400, 401, 403, 404, 405, 409, 410, 413, 422, 429, 500, 503, 507)
RETRY_AFTER_503_S = 30  # a locked or damaged store: no point in asking again at once
RETRY_AFTER_BUDGET_S = 3600  # the day's text messages are spent: not before an hour
MAX_BODY_BYTES = 64 * 1024  # a request's body, but for:
SYNC_BODY_BYTES = 4 * 1024 * 1024  # a replica's batch of events after an outage
# What a bug answers (500): the log has the rest.
CRASHED = "Something went wrong on the hub; it has been logged. Please try again."


class FieldError(BaseModel):
    """One invalid input: where (`line`, `priority`, `after`) and what is wrong with it."""

    field: str
    message: str


class Problem(BaseModel):
    """Every error answer (RFC 9457): `detail` is a sentence for a person."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    # A stable code for programs: a refusal a resident can meet (for their page's own
    # language), or a device's, e.g. "device_revoked".
    code: str | None = None
    errors: list[FieldError] | None = None


PROBLEM_REF = "#/components/schemas/Problem"
# The answer to each error of the rules and the store (a subclass before its base).
STATUSES: dict[type[Exception], int] = {
    Expired: 410,
    NotFound: 404,
    OverBudget: 429,
    Rejected: 409,
    StoreFullError: 507,
    StoreError: 503,
}


def declared_too_large(scope: Scope, limit: int) -> bool:
    """Whether the request's Content-Length says more than `limit` bytes, or no number."""
    declared = dict(scope.get("headers", [])).get(b"content-length")
    return declared is not None and (not declared.isdigit() or int(declared) > limit)


def status_of(error: Exception, statuses: Mapping[type[Exception], int] = STATUSES) -> int | None:
    """The status `statuses` give `error`'s class or its nearest base, if any."""
    return next((statuses[c] for c in type(error).__mro__ if c in statuses), None)


def refusal(error: Exception, status: int) -> JSONResponse:
    """The answer to an error of the rules or the store (`STATUSES`): its message for the
    person, its code for programs, and when to try again for a 429 or 503."""
    waits = {503: RETRY_AFTER_503_S, 429: RETRY_AFTER_BUDGET_S}
    headers = retry_after(waits[status]) if status in waits else None
    return problem(status, str(error), headers=headers, code=getattr(error, "code", ""))


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A router's `responses`: each of `statuses` answers with a Problem.

    Given as a schema reference, not `{"model": Problem}`: FastAPI builds a pydantic field
    for every (route, status) pair with a model, 500 in all, a third of the hub's start-up
    time. `document_problems` adds the schema that the reference points to.
    """
    problem_json = {"content": {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}}
    return {status: problem_json for status in statuses}


ERRORS = documented(*ERROR_STATUSES)


def problem(
    status: int,
    detail: str,
    *,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
    code: str = "",
) -> JSONResponse:
    """The problem-details answer for `status`, with `detail` for the person reading it."""
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code or None,
        errors=list(errors) or None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        headers=dict(headers or {}),
        media_type=MEDIA_TYPE,
    )


def retry_after(seconds: float) -> dict[str, str]:
    """The Retry-After header for a wait of `seconds` (whole seconds, at least 1)."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def field_errors(errors: Sequence[Mapping[str, Any]]) -> list[FieldError]:
    """pydantic's validation errors as (field, message) pairs; the input is never echoed."""
    result = []
    for error in errors:
        if error.get("type") == "json_invalid":
            result.append(FieldError(field="body", message="The request body is not valid JSON."))
            continue
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] in ("body", "path", "query", "header"):
            location = location[1:]
        result.append(
            FieldError(field=".".join(location) or "body", message=error.get("msg", "invalid"))
        )
    return result


def describe(errors: Sequence[FieldError]) -> str:
    """One readable sentence per problem: 'line: Field required'."""
    return "; ".join(e.message if e.field == "body" else f"{e.field}: {e.message}" for e in errors)


def document_problems(schema: dict[str, Any]) -> None:
    """The Problem schema that error answers refer to, and Retry-After on each 429."""
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    schema["components"]["schemas"] = dict(sorted(components.items()))
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                if status == "429":
                    response["headers"] = {
                        "Retry-After": {
                            "description": "Seconds to wait before asking again",
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    }
