"""Former home of harness.hostile (import that instead): re-exports it for tests written before the move."""

from harness.hostile import *  # noqa: F401,F403
