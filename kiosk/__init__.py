"""The touchscreen ticket kiosk."""

import os
from pathlib import Path

import platformdirs

import nowserving_qt  # noqa: F401  (first: it sorts Qt's messages from the start)

# python-escpos caches its printer profiles; give it a folder of ours, not a fresh temp dir.
_cache = Path(platformdirs.user_cache_dir("nowserving", appauthor=False)) / "escpos"
if "ESCPOS_CAPABILITIES_PICKLE_DIR" not in os.environ:
    _cache.mkdir(parents=True, exist_ok=True)
    os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(_cache)
