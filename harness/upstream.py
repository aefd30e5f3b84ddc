"""Echo upstream: answers 200 with the request it received as JSON, so tests can inspect forwarded headers."""

from __future__ import annotations

import json

from .local_server import LocalServer, QuietHandler


class _EchoHandler(QuietHandler):
    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = {
            "method": self.command,
            "path": self.path,
            "headers": [[name.lower(), value] for name, value in self.headers.items()],
        }
        self.reply(200, json.dumps(body).encode(), extra=[("x-upstream", "echo")])


class EchoUpstream(LocalServer):
    """The upstream Envoy routes to; every response body is {"method", "path", "headers": [[name, value], ...]}."""

    def __init__(self):
        super().__init__(_EchoHandler)
