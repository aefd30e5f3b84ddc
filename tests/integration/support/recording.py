"""Former home of harness.recording (import that instead): re-exports it for tests written before the move."""

from harness.recording import *  # noqa: F401,F403
