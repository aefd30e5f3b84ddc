"""Former home of harness.upstream (import that instead): re-exports it for tests written before the move."""

from harness.upstream import *  # noqa: F401,F403
