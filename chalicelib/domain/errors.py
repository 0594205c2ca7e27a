"""Errors the domain and use cases raise; the HTTP layer maps each kind to one status code."""


class DomainError(Exception):
    """Base class: `code` is the stable machine-readable code clients switch on."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field


class InvalidRequest(DomainError):
    """The request is well-formed JSON but a field is missing, mistyped or out of range."""

    code = "validation_error"


class MalformedRequest(DomainError):
    """The request body cannot be read at all (not JSON, not an object)."""

    code = "malformed_request"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class NotAuthenticated(DomainError):
    code = "unauthenticated"


class NotAllowed(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class StaleWrite(Conflict):
    """Someone else changed the item since it was read (optimistic locking)."""

    code = "stale_version"


class TenantConfigError(Exception):
    """A tenant bundle is invalid; the message names the file, the item and the field."""


class Unavailable(DomainError):
    """A dependency is down; the client should retry later (not the request's fault)."""

    code = "unavailable"
