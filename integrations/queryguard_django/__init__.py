"""queryguard for Django: capture each request's SQL, name the relation behind an N+1, and show the fix.

Add ``"queryguard_django"`` to ``INSTALLED_APPS`` and
``"queryguard_django.middleware.QueryGuardMiddleware"`` to ``MIDDLEWARE``; settings go in ``QUERYGUARD``.
"""

from __future__ import annotations

import os

try:
    import django  # noqa: F401
except ImportError as exc:  # say which extra brings it, not only the missing module
    raise ImportError(
        'queryguard_django needs Django: pip install "queryguard-perf[django]"', name=exc.name
    ) from exc

from queryguard import _callsite

# This package's frames are never the user's call site.
_callsite.add_library_path(os.path.dirname(os.path.abspath(__file__)))
