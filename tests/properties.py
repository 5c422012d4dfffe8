"""Settings shared by the property-based tests (hypothesis)."""

import os

from hypothesis import HealthCheck, settings


def repeatable(default: int, env: str) -> settings:
    """A property run inside a database test: ``default`` examples (``$env``
    raises it by hand), the same cases on every run, no example database, no
    deadline (a request may wait on the database) and no health checks (the
    function-scoped fixtures are meant to be shared by all examples)."""
    return settings(
        max_examples=int(os.environ.get(env, default)),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
