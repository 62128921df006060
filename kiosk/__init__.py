"""The touchscreen ticket kiosk."""

import json
import os
import pickle
import platform
import tempfile
from importlib import resources
from pathlib import Path

import platformdirs

import nowserving_qt  # noqa: F401  (first: it sorts Qt's messages from the start)


def _cache_escpos_profiles(folder: Path) -> None:
    """Write python-escpos's pickled printer profiles whole, then move them into place.

    escpos writes that file in place on its first import, so a second process starting at
    the same moment (two kiosks on one PC, the test suite's workers) may read it half
    written and fail with EOFError. Written here first, escpos only ever reads it."""
    target = folder / f"{platform.python_version()}.capabilities.pickle"
    source = Path(str(resources.files("escpos") / "capabilities.json"))
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return
    profiles = json.loads(source.read_text(encoding="utf-8"))  # escpos reads it as YAML
    handle, partial = tempfile.mkstemp(dir=folder, suffix=".partial")
    with os.fdopen(handle, "wb") as out:
        pickle.dump(profiles, out, protocol=pickle.DEFAULT_PROTOCOL)
    Path(partial).replace(target)


# python-escpos caches its printer profiles; give it a folder of ours, not a fresh temp dir.
if "ESCPOS_CAPABILITIES_PICKLE_DIR" not in os.environ:
    _cache = Path(platformdirs.user_cache_dir("nowserving", appauthor=False)) / "escpos"
    _cache.mkdir(parents=True, exist_ok=True)
    _cache_escpos_profiles(_cache)
    os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(_cache)
