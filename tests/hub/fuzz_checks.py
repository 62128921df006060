"""A schemathesis check (loaded with SCHEMATHESIS_HOOKS): every error is a problem document."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def problem_document(ctx: Any, response: Any, case: Any) -> None:
    """A 4xx/5xx answer is an RFC 9457 problem with a sentence in `detail`."""
    if response.status_code < 400:
        return
    media_type = response.headers.get("content-type", [""])
    media_type = media_type[0] if isinstance(media_type, list) else media_type
    assert media_type == "application/problem+json", f"error answer as {media_type!r}"
    body = response.json()
    assert isinstance(body, dict), "the problem is not a JSON object"
    assert body.get("status") == response.status_code, "status member differs from the answer"
    for member in ("type", "title", "detail"):
        assert isinstance(body.get(member), str) and body[member], f"no {member!r}"
