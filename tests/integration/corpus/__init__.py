"""Former home of harness.corpus (import that instead): re-exports it for tests written before the move."""

from harness.corpus import *  # noqa: F401,F403
from harness.corpus import build, build_one  # noqa: F401
