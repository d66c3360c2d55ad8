"""``python manage.py queryguard_audit URL [URL ...]``: request pages, print their findings, fail CI on them.

Each URL is requested with Django's test client (GET, in this process, against the configured databases)
inside a capture of its own; only the request is captured, not the command's own setup. The findings are
printed as text, ``--report PATH`` also writes a report (.txt, .json, .html, .sarif), and the exit status
is 1 when a finding reaches ``--fail-severity`` (default: ``QUERYGUARD["AUDIT_FAIL_SEVERITY"]``, "warning").
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client, override_settings

from queryguard import Capture, _ignore
from queryguard._config import SEVERITIES
from queryguard._report import Report

from ... import _state, conf

_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


class Command(BaseCommand):
    help = "Request URLs through Django's test client and report the database findings of each."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("urls", nargs="+", metavar="URL", help="paths to request, e.g. /books/")
        parser.add_argument("--report", metavar="PATH", help="also write a report (.txt .json .html .sarif)")
        parser.add_argument(
            "--fail-severity",
            choices=[*SEVERITIES, "never"],
            help='exit with status 1 when a finding reaches this severity (default "warning")',
        )

    def handle(self, *args: str, **options: Any) -> None:
        settings_ = conf.get()
        config = settings_.config.replace(action="none", callback=None)
        captures = [self._audit(url, config) for url in options["urls"]]
        report = Report.merge([cap.report for cap in captures])
        color = bool(options.get("force_color")) or (not options.get("no_color") and _tty(self.stdout))
        self.stdout.write(report.to_text(color=color, verbose=options["verbosity"] >= 2), ending="")
        files = set().union(*(_ignore.files_of(cap) for cap in captures))
        for line in _ignore.stale_lines(_ignore.unused(files)):
            self.stdout.write(line)
        if options["report"]:
            report.write(options["report"])
            self.stdout.write(f"report written to {options['report']}")
        threshold = options["fail_severity"] or settings_.audit_fail_severity
        failing = [
            f for f in report.findings if threshold != "never" and _RANK[f.severity] >= _RANK[threshold]
        ]
        if failing:
            plural = "finding" if len(failing) == 1 else "findings"
            raise CommandError(f"{len(failing)} {plural} at or above {threshold!r}", returncode=1)

    def _audit(self, url: str, config: Any) -> Capture:
        """Request ``url`` inside a capture of its own; the middleware stands aside meanwhile."""
        client = Client(raise_request_exception=False)
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        token = _state.auditing.set(True)
        try:
            with override_settings(ALLOWED_HOSTS=hosts):
                cap = Capture(config, name=f"GET {_redacted(url)}")
                with cap:
                    response = client.get(url)
        finally:
            _state.auditing.reset(token)
        if response.status_code >= 400:
            self.stderr.write(f"GET {url} answered {response.status_code}")
        cap.name = f"GET {_redacted(url)} ({response.status_code})"
        return cap


def _redacted(url: str) -> str:
    """The URL with its query values replaced by ``?``: reports carry no parameter values by default."""
    path, _, query = url.partition("?")
    if not query:
        return path
    return path + "?" + "&".join(f"{part.partition('=')[0]}=?" for part in query.split("&"))


def _tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty()) and "NO_COLOR" not in os.environ
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False
