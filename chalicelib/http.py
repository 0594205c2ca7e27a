"""HTTP glue shared by the routes: body parsing, the caller's identity, one error format.

Every error leaves as {"error": {"code", "message"[, "field"]}} with a 4xx status, or a 5xx
without details; no stack trace ever reaches a client.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import urllib.parse
from collections.abc import Callable
from typing import Any, NoReturn

from chalice.app import Request, Response

from chalicelib.domain import errors
from chalicelib.domain.identity import Principal, principal_from_claims
from chalicelib.domain.ports import TokenVerifier

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 64 * 1024

STATUS: list[tuple[type[errors.DomainError], int]] = [
    (errors.MalformedRequest, 400),
    (errors.NotAuthenticated, 401),
    (errors.NotAllowed, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.PayloadTooLarge, 413),
    (errors.InvalidRequest, 422),
    (errors.Unavailable, 503),
]

JSON_HEADERS: dict[str, str | list[str]] = {"Content-Type": "application/json"}


def status_of(exc: errors.DomainError) -> int:
    return next((s for cls, s in STATUS if isinstance(exc, cls)), 400)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"error": error}


def error_response(exc: errors.DomainError) -> Response:
    status = status_of(exc)
    headers: dict[str, str | list[str]] = dict(JSON_HEADERS)
    if status == 401:
        # RFC 6750 section 3.1: no error attribute when the request carried no credentials.
        headers["WWW-Authenticate"] = (
            'Bearer realm="cepat-respon"'
            if exc.code == "unauthenticated"
            else 'Bearer realm="cepat-respon", error="invalid_token"'
        )
    return Response(
        body=error_body(exc.code, exc.message, exc.field), status_code=status, headers=headers
    )


def api(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors raised by a view into the API's error format."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except errors.DomainError as exc:
            return error_response(exc)

    return wrapper


def open311(view: Callable[..., Any]) -> Callable[..., Any]:
    """Open311's own error format: [{"code": <HTTP status>, "description": "..."}]."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except errors.DomainError as exc:
            status = status_of(exc)
            # GeoReport v2 knows 400, 401, 403, 404 and 5xx: every other client error is a 400.
            if 400 <= status < 500 and status not in (401, 403, 404):
                status = 400
            return Response(
                body=[{"code": status, "description": exc.message}],
                status_code=status,
                headers=dict(JSON_HEADERS),
            )

    return wrapper


def form_body(request: Request, max_bytes: int = MAX_JSON_BYTES) -> dict[str, str]:
    """An application/x-www-form-urlencoded body; a repeated field keeps its last value."""
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > max_bytes:
        raise errors.PayloadTooLarge(f"request body is over {max_bytes} bytes")
    try:
        pairs = urllib.parse.parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=bool(raw),
            max_num_fields=200,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise errors.MalformedRequest(f"the form is not valid: {exc}") from None
    return dict(pairs)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_body(request: Request, max_bytes: int = MAX_JSON_BYTES) -> Any:
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > max_bytes:
        raise errors.PayloadTooLarge(f"request body is over {max_bytes} bytes")
    if not raw.strip():
        raise errors.MalformedRequest("the request body is empty; send a JSON object")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise errors.MalformedRequest(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise errors.MalformedRequest("the request body is nested too deeply") from None


BEARER = re.compile(r"^Bearer\s+(\S+)$", re.IGNORECASE)


def optional_caller(request: Request, verifier: TokenVerifier) -> Principal | None:
    """The signed-in user, None when anonymous. A bad token is always 401, never anonymous."""
    header = request.headers.get("authorization")
    if not header:
        return None
    match = BEARER.match(header.strip())
    if match is None:
        raise errors.NotAuthenticated(
            "Authorization must be 'Bearer <id token>'", code="invalid_token"
        )
    return principal_from_claims(verifier.verify(match.group(1)))


def required_caller(request: Request, verifier: TokenVerifier) -> Principal:
    principal = optional_caller(request, verifier)
    if principal is None:
        raise errors.NotAuthenticated("sign in first: send 'Authorization: Bearer <id token>'")
    return principal


def query_int(request: Request, name: str, *, default: int, minimum: int, maximum: int) -> int:
    params: Any = request.query_params or {}
    raw = params.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,6}", raw) or not minimum <= int(raw) <= maximum:
        raise errors.InvalidRequest(
            f"{name} must be a whole number from {minimum} to {maximum}", field=name
        )
    return int(raw)


def raise_invalid(message: str, field: str) -> NoReturn:
    raise errors.InvalidRequest(message, field=field)


def raise_not_found(message: str) -> NoReturn:
    raise errors.NotFound(message)


def _snake(name: str) -> str:
    name = name.removesuffix("Error")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def error_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Last line of defence: reshape Chalice's own errors, hide unexpected ones."""
    try:
        response = get_response(event)
    except Exception:
        log.exception("unhandled error")
        return Response(
            body=error_body("internal_error", "something went wrong on our side; try again"),
            status_code=500,
            headers=dict(JSON_HEADERS),
        )
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        if response.status_code >= 500:
            message = "something went wrong on our side; try again"
            code = "internal_error"
        else:
            message = str(body.get("Message", ""))
            code = _snake(str(body["Code"]))
        response.body = error_body(code, message)
        response.headers = {**response.headers, **JSON_HEADERS}
    return response
