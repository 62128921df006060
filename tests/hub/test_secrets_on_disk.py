"""The hub's first start makes its store private and warns about a config others can read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.hub.conftest import start_hub, stop_hub

WARNING = "holds every device secret and PIN hash but every user can read it"


def test_the_hub_store_is_private_and_an_open_config_is_warned_about(tmp_path: Path) -> None:
    old = os.umask(0o022)  # start_hub writes the config as most tools would: 0644
    try:
        hub = start_hub(tmp_path)
    finally:
        os.umask(old)
    stop_hub(hub)
    assert stat.S_IMODE(hub.data.stat().st_mode) == 0o700
    assert stat.S_IMODE((hub.data / "office.sqlite").stat().st_mode) == 0o600
    assert WARNING in (tmp_path / "hub.log").read_text()
    hub.config.chmod(0o600)
    stop_hub(start_hub(tmp_path, port=int(hub.url.rsplit(":", 1)[1])))
    assert WARNING not in (tmp_path / "hub.log").read_text()
