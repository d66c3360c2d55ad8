"""Make queryguard importable from this checkout when it is not installed (``pip install -e .`` does it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
_spec = importlib.util.find_spec("queryguard_django")
if _spec is None or _spec.origin is None:  # missing, or a stale editable install's empty namespace
    sys.path[1:1] = [str(ROOT / "src"), str(ROOT / "integrations")]
