"""Former home of harness.envoy (import that instead): re-exports it for tests written before the move."""

from harness.envoy import *  # noqa: F401,F403
