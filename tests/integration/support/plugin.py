"""Former home of harness.plugin (import that instead): re-exports it for tests written before the move."""

from harness.plugin import *  # noqa: F401,F403
