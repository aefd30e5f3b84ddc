"""Minimal HTTP/1.1 client over http.client that keeps repeated headers and raw header order."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Iterable, Mapping

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass
class Response:
    """Status, header pairs (names lower-cased) and body of one HTTP response."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """First value of header `name` (case-insensitive), None if absent."""
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        """All values of header `name`."""
        return [v for k, v in self.headers if k == name.lower()]

    def json(self):
        """Body parsed as JSON."""
        return json.loads(self.body)

    def upstream_headers(self) -> dict[str, list[str]]:
        """Headers the echo upstream received (name -> values); only valid for a 200 from the upstream."""
        received: dict[str, list[str]] = {}
        for name, value in self.json()["headers"]:
            received.setdefault(name, []).append(value)
        return received


def _pairs(headers: Headers | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers)


def send(conn: http.client.HTTPConnection, path: str, headers: Headers | None = None, method: str = "GET") -> Response:
    """Send one request on an open connection (headers may repeat when given as pairs)."""
    conn.putrequest(method, path, skip_accept_encoding=True)
    for name, value in _pairs(headers):
        conn.putheader(name, value)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    return Response(resp.status, [(k.lower(), v) for k, v in resp.getheaders()], body)


def request(port: int, path: str, headers: Headers | None = None, method: str = "GET", timeout: float = 15.0) -> Response:
    """One request on a fresh connection to 127.0.0.1:`port`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        return send(conn, path, headers, method)
    finally:
        conn.close()
