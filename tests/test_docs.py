"""Every config key and CLI command is documented, and stays so."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from nowserving.cli.main import build_parser
from nowserving.domain.config import OfficeConfig

ROOT = Path(__file__).parents[1]


def _keys(model: type[BaseModel]) -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(name)
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        for candidate in inner:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                keys |= _keys(candidate)
    return keys


def test_every_config_key_is_in_the_docs() -> None:
    docs = (ROOT / "docs" / "config.md").read_text()
    documented = [f"`{key}`" for key in ("{key}", "[{key}]", "[[{key}]]")]
    missing = sorted(
        key
        for key in _keys(OfficeConfig)
        if not any(form.format(key=key) in docs for form in documented)
    )
    assert not missing, f"document these keys in docs/config.md: {missing}"


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    missing = sorted(name for name in commands if name not in readme)
    assert not missing, f"document these commands in README.md: {missing}"
