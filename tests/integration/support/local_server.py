"""Former home of harness.local_server (import that instead): re-exports it for tests written before the move."""

from harness.local_server import *  # noqa: F401,F403
