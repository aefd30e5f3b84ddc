"""Former home of harness.oidc_provider (import that instead): re-exports it for tests written before the move."""

from harness.oidc_provider import *  # noqa: F401,F403
