"""Where things live: the user data dir, and the resources shipped with the code."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "nowserving"


def data_dir(override: Path | str | None = None) -> Path:
    """The folder for stores and logs: `--data`, else $NOWSERVING_DATA, else the user data dir."""
    chosen = override or os.environ.get("NOWSERVING_DATA")
    path = Path(chosen) if chosen else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return path.expanduser()


def resources_dir() -> Path:
    """The shipped resources (sample office, translations, web pages, sounds)."""
    package = Path(__file__).resolve().parents[1]  # nowserving/
    # Installed: nowserving/resources; in a checkout: resources/ beside the package.
    for candidate in (package / "resources", package.parent / "resources"):
        if (candidate / "offices").is_dir():
            return candidate
    raise FileNotFoundError("Nowserving's resources folder is missing from this installation.")


def sample_config() -> Path:
    return resources_dir() / "offices" / "sample.toml"
