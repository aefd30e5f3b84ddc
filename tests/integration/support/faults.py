"""Former home of harness.faults (import that instead): re-exports it for tests written before the move."""

from harness.faults import *  # noqa: F401,F403
