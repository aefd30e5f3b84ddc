"""Former home of harness.assertions (import that instead): re-exports it for tests written before the move."""

from harness.assertions import *  # noqa: F401,F403
