"""Former home of harness.wasm (import that instead): re-exports it for tests written before the move."""

from harness.wasm import *  # noqa: F401,F403
