"""Former home of harness.jwks_server (import that instead): re-exports it for tests written before the move."""

from harness.jwks_server import *  # noqa: F401,F403
