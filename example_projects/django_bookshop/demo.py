"""``make demo``: seed the bookshop, audit its pages, print the findings and write an HTML report.

Run from anywhere: the database lives next to this file (``bookshop.sqlite3``), the report is written to the
current directory (``queryguard-report.html``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _paths  # noqa: E402, F401  (queryguard from this checkout when it is not installed)

URLS = [
    "/books/",
    "/authors/",
    "/authors/reviews/",
    "/books/1/",
    "/restock/",
    "/stats/",
    "/reviews/?by=Ada+O.",
]
REPORT = "queryguard-report.html"


def main() -> int:
    """Seed, audit, report."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookshop.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from shop import seed

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    seeded = seed.run()
    what = "created and seeded" if seeded else "already seeded"
    from django.db import connection

    where = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        where = os.path.relpath(where, HERE.parent)
    else:
        where = f"{connection.vendor}: {where}"
    print(f"bookshop database {what} ({where}, {time.perf_counter() - started:.1f} s)")
    print(f"auditing {len(URLS)} pages with: python manage.py queryguard_audit {' '.join(URLS)}\n")
    try:
        call_command("queryguard_audit", *URLS, report=REPORT)
    except CommandError as exc:  # the exit status CI would see; the demo itself succeeds
        print(f"\nqueryguard_audit exits with status 1 in CI: {exc}")
    print(f"HTML report: {Path(REPORT).resolve()}")
    # The interpreter that ran the demo has Django; a bare "python" may not (no virtualenv active).
    command = f"{_shown(Path(sys.executable))} {_shown(HERE / 'manage.py')} runserver"
    print(f"Browse the shop: make serve (or: {command})")
    print("then open http://127.0.0.1:8000/ and the report page http://127.0.0.1:8000/__queryguard__/")
    return 0


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when it lies below it, else absolute."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


if __name__ == "__main__":
    raise SystemExit(main())
