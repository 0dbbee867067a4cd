"""Files the app builds once at start-up and serves with a content hash in their URL."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import Response, request

YEAR = 365 * 24 * 60 * 60
UNVERSIONED_MAX_AGE = 300  # a URL without the current version may change under it


@dataclass(frozen=True)
class Served:
    """A built file: its bytes and a short hash of them (the `v` in its URL)."""

    body: bytes
    version: str

    @classmethod
    def of(cls, body: bytes) -> Served:
        return cls(body=body, version=hashlib.sha256(body).hexdigest()[:12])


def versioned_response(body: bytes, mimetype: str, version: str) -> Response:
    """`body`, cacheable for a year (immutable) when asked for by its current version.

    Any other URL gets five minutes, so a stale `v` never pins an old file.
    """
    response = Response(body, mimetype=mimetype)
    response.set_etag(hashlib.sha256(body).hexdigest()[:16])
    response.cache_control.public = True
    current = request.args.get("v") == version
    response.cache_control.max_age = YEAR if current else UNVERSIONED_MAX_AGE
    if current:
        response.cache_control.immutable = True
    return response.make_conditional(request)
