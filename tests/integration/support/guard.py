"""Former home of harness.guard (import that instead): re-exports it for tests written before the move."""

from harness.guard import *  # noqa: F401,F403
