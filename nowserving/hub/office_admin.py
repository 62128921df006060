"""Changes to the office made at the hub by staff with the `admin` right.

One function per change, shared by the admin API and the admin page. Each checks the
changed office as `check-config` checks a file (same messages), stores it (devices take
it up by its new version) and writes an `office.changed` event naming who did it.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import threading
from collections.abc import Callable
from datetime import date
from typing import Any, ParamSpec, TypeVar

from nowserving.domain.config import (
    OfficeConfig,
    office_document,
    office_from_document,
    retired_lines,
    without_lines,
)
from nowserving.domain.errors import ConfigError, NotFound, Rejected
from nowserving.domain.pairing import PairingRefused
from nowserving.domain.security import NEW_PIN_DIGITS, WeakPin, check_new_pin, hash_pin
from nowserving.hub.context import Hub
from nowserving.store.registry import Pairing
from nowserving.system import i18n

HUB = "hub"  # who made a change the hub makes by itself (a new day drops retired lines)


class InvalidOffice(Rejected):
    """A change that would make the office invalid (422, in check-config's words)."""


P = ParamSpec("P")
R = TypeVar("R")
# One change at a time: each reads the office, edits it and stores it, and two at once
# (an admin disabling a clerk while the clerk changes their PIN) would lose one.
_EDITING = threading.Lock()


def _one_at_a_time(change: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(change)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        with _EDITING:
            return change(*args, **kwargs)

    return locked


def rename_line(hub: Hub, line: str, names: dict[str, str], *, by: str) -> None:
    """A line's name per language (blank ones dropped)."""
    _rows(hub.config.lines, line, "line")
    save_line(hub, line, names, by=by)


@_one_at_a_time
def save_line(
    hub: Hub,
    line: str,
    names: dict[str, str],
    *,
    by: str,
    descriptions: dict[str, str] | None = None,
    prefix: str = "",
) -> None:
    """A line's names (and descriptions) per language: changed, or added when the id is
    new (then with its ticket prefix letter)."""
    rows = [known.model_dump(mode="json") for known in hub.config.lines]
    row: dict[str, Any] = {"id": line, "name": _texts(names)}
    if descriptions is not None:
        row["description"] = _texts(descriptions)
    shown = row["name"].get(hub.config.default_language, "")
    known = [n for n, existing in enumerate(rows) if existing["id"] == line]
    if known:
        renamed = rows[known[0]]["name"] != row["name"]
        rows[known[0]].update(row)
        what = f"renamed line {line} to {shown!r}" if renamed else f"changed the texts of {line}"
    else:
        rows.append({**row, "prefix": prefix})
        what = f"added line {line} ({prefix}: {shown!r})"
    _change(hub, {"lines": rows}, what, by)


@_one_at_a_time
def remove_line(hub: Hub, line: str, *, by: str) -> bool:
    """Remove a line. One without a ticket today goes at once (True). One with tickets today
    is retired (False): closed for new tickets now, its waiting residents are still called,
    and it leaves the office at the next day (`drop_retired`)."""
    rows = _rows(hub.config.lines, line, "line")
    if not any(ticket.line == line for ticket in hub.service.state.tickets.values()):
        _change(hub, without_lines(office_document(hub.config), {line}), f"removed line {line}", by)
        return True
    alone = [c.id for c in hub.config.counters if c.lines == [line]]
    if alone:  # tomorrow it would serve nothing: check-config would refuse the office
        raise InvalidOffice(f"Counter {alone[0]} serves only {line}: give it another line first.")
    rows[_index(rows, line)]["retired_on"] = hub.service.today()
    _change(hub, {"lines": rows}, f"retired line {line} (no new tickets; gone tomorrow)", by)
    return False


@_one_at_a_time
def drop_retired(hub: Hub) -> set[str]:
    """A new office day: the lines retired before it leave the office."""
    gone = retired_lines(hub.config, date.fromisoformat(hub.service.today()))
    if gone:
        document = without_lines(office_document(hub.config), gone)
        _change(hub, document, f"removed retired lines {', '.join(sorted(gone))}", HUB)
    return gone


@_one_at_a_time
def save_counter(
    hub: Hub, counter: str, names: dict[str, str], lines: list[str], *, by: str
) -> None:
    """A counter's name per language and its lines: changed, or added when the id is new."""
    rows = [known.model_dump(mode="json") for known in hub.config.counters]
    named = _texts(names)
    row = {"id": counter, "name": named, "lines": lines}
    known = [n for n, existing in enumerate(rows) if existing["id"] == counter]
    if known:
        rows[known[0]] = row
    else:
        rows.append(row)
    shown = named.get(hub.config.default_language, "")
    what = f"{'changed' if known else 'added'} counter {counter} ({shown}: {', '.join(lines)})"
    _change(hub, {"counters": rows}, what, by)


@_one_at_a_time
def set_languages(hub: Hub, languages: list[str], default: str, *, by: str) -> None:
    """Which of the shipped languages the office offers; `default` first (the one every
    resident text must have, and the one shown when a text is missing)."""
    # The office's order is kept (its kiosk buttons stay where residents know them).
    ordered = [*hub.config.office.languages, *languages]
    offered = list(dict.fromkeys([default, *(lang for lang in ordered if lang in languages)]))
    unknown = [lang for lang in offered if lang not in i18n.shipped()]
    if unknown:
        raise InvalidOffice(
            f"The screens are not translated into {unknown[0]!r}: pick from "
            f"{', '.join(i18n.shipped())}."
        )
    document = office_document(hub.config)
    # The display speaks only office languages: one no longer offered is not spoken either.
    spoken = [lang for lang in document["display"]["announce_in"] if lang in offered]
    if document["display"]["announce_in"] and not spoken:
        spoken = [default]
    _change(
        hub,
        {
            "office": {**document["office"], "languages": offered},
            "display": {**document["display"], "announce_in": spoken},
        },
        f"set the languages to {', '.join(offered)}",
        by,
    )


SETTINGS = ("kiosk", "display", "printer")


@_one_at_a_time
def save_settings(hub: Hub, section: str, values: dict[str, Any], *, by: str) -> None:
    """The `[kiosk]`, `[display]` or `[printer]` settings (all of that section's keys)."""
    if section not in SETTINGS:
        raise NotFound(f"There are no {section!r} settings.")
    before = office_document(hub.config)[section]
    after = office_document(_checked(hub, {section: values}))[section]
    moved = [f"{key} {before[key]!r} → {value!r}" for key, value in after.items()
             if before[key] != value]  # fmt: skip
    if moved:
        _change(hub, {section: after}, f"changed the {section} settings: {'; '.join(moved)}", by)


@_one_at_a_time
def add_staff(hub: Hub, staff: str, name: str, *, line_control: bool, admin: bool, by: str) -> str:
    """A new staff member; returns their first PIN (shown once, kept only hashed)."""
    if any(person.id == staff for person in hub.config.staff):
        raise InvalidOffice(f"There is already a staff member {staff!r}.")
    pin = new_pin()
    person = {
        "id": staff,
        "name": name.strip(),
        "pin_hash": hash_pin(pin),
        "line_control": line_control,
        "admin": admin,
    }
    people = [p.model_dump(mode="json") for p in hub.config.staff] + [person]
    _change(hub, {"staff": people}, f"added staff {staff}", by)
    return pin


@_one_at_a_time
def reset_pin(hub: Hub, staff: str, *, by: str, pin: str | None = None) -> str:
    """A new PIN for `staff` (the old one stops working): `pin`, or a fresh one, returned
    to be shown once."""
    people = _rows(hub.config.staff, staff, "staff member")
    pin = pin or new_pin()
    people[_index(people, staff)]["pin_hash"] = hash_pin(pin)
    what = "changed their own PIN" if by == staff else f"reset the PIN of {staff}"
    _change(hub, {"staff": people}, what, by)
    if by != staff:  # whoever knew the old PIN is signed out at every desk
        hub.service.store.end_sessions(staff=[staff])
    return pin


@_one_at_a_time
def set_disabled(hub: Hub, staff: str, disabled: bool, *, by: str) -> None:
    """A disabled staff member cannot sign in anywhere (desks take it up within seconds)."""
    if staff == by and disabled:
        raise Rejected("You cannot disable yourself.")
    people = _rows(hub.config.staff, staff, "staff member")
    people[_index(people, staff)]["disabled"] = disabled
    _change(hub, {"staff": people}, f"{'disabled' if disabled else 'enabled'} staff {staff}", by)


def make_pairing(hub: Hub, role: str, device: str | None, *, by: str) -> Pairing:
    """A one-time code that pairs a PC (valid 10 minutes)."""
    try:
        pairing = hub.registry.new_pairing(role, device)
    except PairingRefused as refused:
        raise Rejected(str(refused)) from None
    audit(hub, f"made a pairing code for {pairing.device} ({pairing.role})", by)
    return pairing


@_one_at_a_time
def revoke(hub: Hub, device: str, *, by: str) -> None:
    """The device's next request is refused; pair it again to bring it back."""
    if not hub.registry.revoke(device):
        raise NotFound(f"There is no paired device {device!r} that is not revoked already.")
    audit(hub, f"revoked {device}", by)


def audit(hub: Hub, what: str, by: str) -> None:
    hub.service.record_office_change(what, staff=by)


def new_pin() -> str:
    """A random PIN that the rule for chosen ones would accept too (no 111111)."""
    while True:
        pin = f"{secrets.randbelow(10**NEW_PIN_DIGITS):0{NEW_PIN_DIGITS}d}"
        with contextlib.suppress(WeakPin):
            return check_new_pin(pin)


def _rows(items: Any, wanted: str, what: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [item.model_dump(mode="json") for item in items]
    if not any(row["id"] == wanted for row in rows):
        raise NotFound(f"There is no {what} {wanted!r}.")
    return rows


def _texts(texts: dict[str, str]) -> dict[str, str]:
    """Texts per language as a form gives them: trimmed, blank ones dropped."""
    return {lang: text.strip() for lang, text in texts.items() if text.strip()}


def _index(rows: list[dict[str, Any]], wanted: str) -> int:
    return next(n for n, row in enumerate(rows) if row["id"] == wanted)


def _checked(hub: Hub, update: dict[str, Any]) -> OfficeConfig:
    """The office with `update`, checked as check-config checks a file (same messages)."""
    try:
        return office_from_document({**office_document(hub.config), **update}, "office")
    except ConfigError as exc:
        raise InvalidOffice(str(exc)) from None


def _change(hub: Hub, update: dict[str, Any], what: str, by: str) -> OfficeConfig:
    """Check the office with `update` as check-config would, store it and audit it."""
    changed = _checked(hub, update)
    hub.change_office(changed)
    audit(hub, what, by)
    return changed
