"""Former home of harness.dpop (import that instead): re-exports it for tests written before the move."""

from harness.dpop import *  # noqa: F401,F403
