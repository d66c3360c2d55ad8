"""pytest plugin of queryguard: the ``queryguard`` fixture and marker, and the ``--queryguard`` options.

pytest loads :mod:`queryguard_pytest.plugin` through the ``pytest11`` entry point; nothing happens until a
test uses the fixture or the marker, or the run is started with ``--queryguard``.
"""

from __future__ import annotations

from ._fixture import QueryGuardFixture

__all__ = ["QueryGuardFixture"]
