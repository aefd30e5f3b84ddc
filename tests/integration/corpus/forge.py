"""Former home of harness.corpus.forge (import that instead): re-exports it for tests written before the move."""

from harness.corpus.forge import *  # noqa: F401,F403
