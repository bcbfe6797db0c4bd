"""Plain request/response values the sandbox APIs work with, independent of the HTTP server."""

from __future__ import annotations

import base64
import json
import re
import typing as t
from dataclasses import dataclass, field
from email.message import Message

# A ``sandbox_api.oddities.deeply_nested`` value as ``json.dumps`` writes it.
_DEEP = re.compile(rb'"\\u0001deeply-nested\\u0001(\d+)\\u0001deeply-nested\\u0001"')

# What the server hands over (http.server's case-insensitive header message), or a plain
# mapping when a test builds a Request itself.
Headers: t.TypeAlias = "t.Mapping[str, str] | Message"


@dataclass
class Request:
    """One incoming request, with the API mount prefix already removed from ``path``."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    base_url: str  # scheme://host:port of the sandbox, for absolute links

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def int_arg(self, name: str, default: int) -> int:
        value = self.arg(name)
        return int(value) if value not in {None, ""} else default

    def basic_auth(self) -> tuple[str, str] | None:
        """(user, password) from the Authorization header, or None if absent or malformed."""
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        return user, password


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: t.Any, headers: dict[str, str] | None = None) -> Response:
        try:
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        except UnicodeEncodeError:  # a lone surrogate (sandbox_api.oddities): JSON-escape it
            body = json.dumps(payload, separators=(",", ":")).encode()
        if b"deeply-nested" in body:
            body = _DEEP.sub(lambda m: b"[" * int(m[1]) + b"]" * int(m[1]), body)
        return cls(
            status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )

    @classmethod
    def text(cls, status: int, text: str, headers: dict[str, str] | None = None) -> Response:
        return cls(
            status, text.encode(), {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}
        )
