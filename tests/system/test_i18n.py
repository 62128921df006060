"""The message catalogs: every phrase in every language, with the same placeholders."""

from __future__ import annotations

import json
import re

import pytest

from nowserving.domain.errors import RESIDENT_ERRORS
from nowserving.system import i18n
from nowserving.system.paths import resources_dir

FOLDER = resources_dir() / "i18n"
LANGUAGES = sorted(path.stem for path in FOLDER.glob("*.json"))


def _placeholders(message: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", message))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_is_in_every_catalog(lang: str) -> None:
    english = json.loads((FOLDER / "en.json").read_text(encoding="utf-8"))
    catalog = json.loads((FOLDER / f"{lang}.json").read_text(encoding="utf-8"))
    assert sorted(set(english) - set(catalog)) == [], f"{lang}.json lacks these keys"
    assert sorted(set(catalog) - set(english)) == [], f"{lang}.json has keys English lacks"
    for key, message in catalog.items():
        assert message.strip(), f"{lang}.json: {key} is empty"
        assert _placeholders(message) == _placeholders(english[key]), f"{lang}.json: {key}"
    assert len(catalog["voice.letters"].split()) == 26  # one name per letter A-Z


def test_each_refusal_a_resident_meets_has_its_sentence() -> None:
    for code in RESIDENT_ERRORS:
        for lang in LANGUAGES:
            assert f"error.{code}" in i18n.catalog(lang), (lang, code)
    assert i18n.refusal("es", "line_paused").startswith("Este servicio está en pausa")
    assert i18n.refusal("zh", "something_new") == i18n.text("zh", "kiosk.try_again")
