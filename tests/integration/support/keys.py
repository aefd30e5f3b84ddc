"""Former home of harness.keys (import that instead): re-exports it for tests written before the move."""

from harness.keys import *  # noqa: F401,F403
