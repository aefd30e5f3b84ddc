"""Former home of harness.corpus.cases (import that instead): re-exports it for tests written before the move."""

from harness.corpus.cases import *  # noqa: F401,F403
