"""python-escpos's printer profiles are cached whole before escpos reads them."""

from __future__ import annotations

import json
import pickle
import platform
from importlib import resources
from pathlib import Path

from kiosk import _cache_escpos_profiles


def test_the_profiles_are_written_whole_and_only_when_older_than_escposs(tmp_path: Path) -> None:
    _cache_escpos_profiles(tmp_path)
    (cached,) = tmp_path.iterdir()  # no partial file left beside it
    assert cached.name == f"{platform.python_version()}.capabilities.pickle"
    source = resources.files("escpos") / "capabilities.json"
    assert pickle.loads(cached.read_bytes()) == json.loads(source.read_text(encoding="utf-8"))
    written = cached.stat().st_mtime_ns
    _cache_escpos_profiles(tmp_path)  # up to date: left as it is
    assert cached.stat().st_mtime_ns == written
