"""A starter office config: the sample office with this office's own secrets."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from nowserving.config import parse_config
from nowserving.paths import sample_config
from nowserving.security import hash_pin, new_secret


def write_starter_config(path: Path, office_name: str) -> dict[str, str]:
    """Write a config at `path`; return the fresh staff PINs (name -> PIN), shown once."""
    text = sample_config().read_text(encoding="utf-8")
    text = re.sub(
        r'(?m)^name = "Riverside City Hall"$', f"name = {_toml_string(office_name)}", text
    )
    text = re.sub(r'(?m)^secret = ".*"$', lambda _: f'secret = "{new_secret()}"', text)
    text = re.sub(r"(?m)^# Demo staff PINs:.*\n", "", text)
    text = re.sub(r"(?m)^# The device secrets.*\n# runs .*\n", "", text)
    pins: dict[str, str] = {}

    def fresh_pin(match: re.Match[str]) -> str:
        pin = f"{secrets.randbelow(10**6):06d}"
        pins[match.group(1)] = pin
        return f'name = "{match.group(1)}"\n{match.group(2)}pin_hash = "{hash_pin(pin)}"'

    text = re.sub(r'name = "([^"]+)"\n((?:line_control = \w+\n)?)pin_hash = ".*"', fresh_pin, text)
    parse_config(text, str(path))  # never write a file that would not load
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return pins


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
