"""Former home of harness.http_client (import that instead): re-exports it for tests written before the move."""

from harness.http_client import *  # noqa: F401,F403
