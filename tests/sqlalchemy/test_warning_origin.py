"""The "warn" action of a session unit: the warning names the user's line, not the SQLAlchemy commit."""

from __future__ import annotations

import warnings
from pathlib import Path

from queryguard_sqlalchemy import instrument, uninstrument
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from queryguard import Config, QueryGuardWarning

from ._models import Author


def test_a_session_units_warning_points_at_the_lazy_load(sqlite_engine: Engine) -> None:
    """The unit ends inside Session.commit; the N+1's warning is this file's line that read ``.books``."""
    factory = sessionmaker(sqlite_engine)
    instrument(factory, config=Config(action="warn", explain=False))
    try:
        with warnings.catch_warnings(record=True) as caught, factory() as session:
            warnings.simplefilter("always")
            for author in session.scalars(select(Author)).all():
                assert author.books  # the lazy load: the line the warning must name
            session.commit()
    finally:
        uninstrument(factory)
    (warning,) = [w for w in caught if issubclass(w.category, QueryGuardWarning)]
    assert "N+1: Author.books loaded 10 times" in str(warning.message)
    assert warning.filename == __file__
    lines = Path(__file__).read_text().splitlines()
    assert lines[warning.lineno - 1].endswith("# the lazy load: the line the warning must name")
