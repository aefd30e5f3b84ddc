"""Former home of the test harness, now the top-level package `harness` (import that instead).

Each module here re-exports the harness module of the same name, so tests written before the move keep working.
"""
