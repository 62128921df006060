"""Message catalogs: one JSON file per language in resources/i18n.

The same catalogs serve the Qt apps, the receipt and the resident's phone page,
so a phrase is translated once. A missing key falls back to English, then to
the key itself, so a half-translated language still works.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from nowserving.system.paths import resources_dir

FALLBACK = "en"


@cache
def catalog(lang: str) -> dict[str, str]:
    """All messages of one language ({} if it has no catalog)."""
    path = _folder() / f"{lang}.json"
    try:
        loaded: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return loaded


@cache
def shipped() -> tuple[str, ...]:
    """The languages the screens are translated into (one catalog each)."""
    return tuple(sorted(path.stem for path in _folder().glob("*.json")))


def _folder() -> Path:
    return resources_dir() / "i18n"


def text(lang: str, key: str, **values: object) -> str:
    """The message `key` in `lang`, with `{placeholders}` filled in."""
    message = catalog(lang).get(key) or catalog(FALLBACK).get(key) or key
    return message.format(**values) if values else message


def spoken_label(label: str, lang: str) -> str:
    """ "A-042" as said in `lang`: the letter's name, then each digit on its own.

    Digits one by one ("A 0 4 2"), or Chinese reads 042 as "forty-two"; the letter by
    its name in the language (voice.letters), or Arabic switches to an English voice.
    """
    prefix, _, digits = label.partition("-")
    letters = text(lang, "voice.letters").split()
    index = ord(prefix) - ord("A") if len(prefix) == 1 else -1
    letter = letters[index] if len(letters) == 26 and 0 <= index < 26 else prefix
    return " ".join([letter, *digits])


def refusal(lang: str, code: str) -> str:
    """What a resident reads when the office said no: `error.<code>`, else "try again"."""
    key = f"error.{code}"
    return text(lang, key) if code and key in catalog(FALLBACK) else text(lang, "kiosk.try_again")


def direction(lang: str) -> str:
    """ "rtl" for right-to-left languages (Arabic), else "ltr"."""
    return catalog(lang).get("_direction", "ltr")


def language_name(lang: str) -> str:
    """The language's name in its own script, for language buttons."""
    return catalog(lang).get("_language_name", lang)


def bundle(langs: list[str]) -> dict[str, dict[str, str]]:
    """Complete catalogs for these languages (English filling gaps), for a web page."""
    english = catalog(FALLBACK)
    return {lang: {**english, **catalog(lang)} for lang in langs}


class ShownWait(Protocol):
    """An estimated wait as views carry it (domain.estimate.WaitRange)."""

    @property
    def low(self) -> int: ...
    @property
    def high(self) -> int: ...
    @property
    def known(self) -> bool: ...
    @property
    def point(self) -> int: ...
    @property
    def next(self) -> bool: ...


def wait_text(lang: str, wait: ShownWait) -> str:
    """An estimated wait as a resident reads it: "about 20 min (15–25)", point first."""
    if not wait.known:
        return text(lang, "common.no_counter_open")
    if wait.next:
        return text(lang, "common.wait_next")
    if wait.point == 0:
        return text(lang, "common.minutes_short", high=max(wait.high, 1))
    return text(lang, "common.minutes_about", point=wait.point, low=wait.low, high=wait.high)


def ahead_text(lang: str, count: int) -> str:
    if count == 0:
        return text(lang, "common.people_ahead_none")
    if count == 1:
        return text(lang, "common.people_ahead_one")
    return text(lang, "common.people_ahead", count=count)


class ShownHours(Protocol):
    """Whether a line takes residents, as views carry it (domain.opening.Hours)."""

    @property
    def status(self) -> str: ...
    @property
    def opens_at(self) -> int | None: ...
    @property
    def closes_at(self) -> int | None: ...
    @property
    def remote_open(self) -> bool: ...
    @property
    def day(self) -> str: ...


def _local(ms: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone)


def clock_time(ms: int, zone: ZoneInfo) -> str:
    """An office-local time as every screen writes it: "8:00", "16:30"."""
    moment = _local(ms, zone)
    return f"{moment.hour}:{moment.minute:02d}"


def hours_text(lang: str, hours: ShownHours, zone: ZoneInfo, remote: bool = False) -> str:
    """Why a line takes nobody now, in `lang` ("" when it is open): "Closed — opens Monday
    8:00", "Full for today. Come back tomorrow from 8:00." With `remote`, also that
    joining from a phone has closed while the office still issues until closing."""
    if hours.status == "open":
        if remote and not hours.remote_open and hours.closes_at is not None:
            return text(lang, "hours.remote_closed", time=clock_time(hours.closes_at, zone))
        return ""
    kind = "full" if hours.status == "full" else "closed"
    if hours.opens_at is None:
        return text(lang, f"hours.{kind}")
    opens = _local(hours.opens_at, zone)
    days = (opens.date() - date.fromisoformat(hours.day)).days
    time = clock_time(hours.opens_at, zone)
    if days <= 0:
        return text(lang, f"hours.{kind}_today", time=time)
    if days == 1:
        return text(lang, f"hours.{kind}_tomorrow", time=time)
    day = text(lang, f"weekday.{opens.weekday()}")
    if days > 6:  # beyond this week the weekday alone is ambiguous
        day = f"{day} {opens.date().isoformat()}"
    return text(lang, f"hours.{kind}_on", day=day, time=time)
