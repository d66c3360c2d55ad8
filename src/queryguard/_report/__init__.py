"""Reports: the findings and statements of units of work, as text, JSON, HTML or SARIF.

The package is layered so that no module imports one above it: ``_redact`` (what an output may show) <-
``_model`` (the versioned, redacted data) <- one module per format (``_text``, ``_html``, ``_sarif``, which
never import each other) <- :class:`Report`, here, which ties a format to each method. The rest of
queryguard imports the names below, and redaction from ``_redact``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ConfigurationError
from .._plural import plural
from ._html import render_html
from ._model import UnitReport, finding_dict, headline, label, report_dict, split_callsite, statement_dict
from ._sarif import render_sarif
from ._text import render_text, wants_color

if TYPE_CHECKING:
    from .._events import Finding

__all__ = ["Report", "UnitReport", "finding_dict", "headline", "label", "split_callsite", "statement_dict"]

_FORMATS = {
    ".json": "json",
    ".html": "html",
    ".htm": "html",
    ".sarif": "sarif",
    ".sarif.json": "sarif",
    ".txt": "text",
}


class Report:
    """Findings and statements of one or more units of work, rendered as text, JSON, HTML or SARIF.

    Parameter values and literals are redacted in every format unless ``show_params`` is True.
    """

    def __init__(
        self, units: Sequence[UnitReport], *, show_params: bool = False, max_statements: int = 500
    ) -> None:
        if isinstance(max_statements, bool) or not isinstance(max_statements, int) or max_statements < 0:
            raise ConfigurationError(f"max_statements must be an integer >= 0, got {max_statements!r}")
        self.units: list[UnitReport] = list(units)
        self.show_params = show_params is True
        self.max_statements = max_statements

    def __repr__(self) -> str:
        return f"<Report {plural(len(self.units), 'unit')}, {plural(len(self.findings), 'finding')}>"

    @property
    def findings(self) -> list[Finding]:
        """The findings of every unit, in order."""
        return [finding for unit in self.units for finding in unit.findings]

    @classmethod
    def merge(cls, reports: Iterable[Report]) -> Report:
        """One report of the units of all ``reports`` (parameters shown only if every report shows them)."""
        reports = list(reports)
        return cls(
            [unit for report in reports for unit in report.units],
            show_params=bool(reports) and all(report.show_params for report in reports),
            max_statements=max((report.max_statements for report in reports), default=500),
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the schema documented in ``docs/report-schema.md``)."""
        return report_dict(self.units, show_params=self.show_params, limit=self.max_statements)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_text(self, *, color: bool | None = None, verbose: bool = False) -> str:
        """A terminal summary; ``color=None`` colours only a terminal, and never when NO_COLOR is set."""
        if color is None:
            color = wants_color()
        data = report_dict(self.units, show_params=self.show_params, limit=None)
        return render_text(data, color=color, verbose=verbose)

    def to_html(self) -> str:
        """One self-contained HTML page (no external assets; its one inline script only filters)."""
        return render_html(self.to_dict(), show_params=self.show_params)

    def to_sarif(self) -> str:
        """SARIF 2.1.0, for code-scanning tools."""
        return render_sarif(self.to_dict())

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the report in the format its extension names (.json .html .htm .sarif .sarif.json .txt)."""
        target = Path(path)
        name = target.name.lower()
        suffix = next((ext for ext in sorted(_FORMATS, key=len, reverse=True) if name.endswith(ext)), None)
        if suffix is None:
            raise ConfigurationError(
                f"cannot write a report to {os.fspath(path)!r}: unknown extension {target.suffix!r}; "
                f"valid extensions: {', '.join(_FORMATS)}"
            )
        renderers: dict[str, Callable[[], str]] = {
            "json": self.to_json,
            "html": self.to_html,
            "sarif": self.to_sarif,
            "text": lambda: self.to_text(color=False),
        }
        text = renderers[_FORMATS[suffix]]()
        target.parent.mkdir(parents=True, exist_ok=True)
        # Lone surrogates (undecodable bytes a driver passed through) must not make the write fail.
        text = text if text.endswith("\n") else text + "\n"
        target.write_text(text, encoding="utf-8", errors="backslashreplace")
