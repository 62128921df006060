"""Changes to the office made at the hub by staff with the `admin` right.

One function per change, shared by the admin API and the admin page. Each checks the
changed office as `check-config` checks a file (same messages), stores it (devices take
it up by its new version) and writes an `office.changed` event naming who did it.
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from nowserving.domain.config import OfficeConfig, office_document, office_from_document
from nowserving.domain.errors import ConfigError, NotFound, Rejected
from nowserving.domain.pairing import PairingRefused
from nowserving.domain.security import hash_pin
from nowserving.hub.context import Hub
from nowserving.store.registry import Pairing

PIN_DIGITS = 6


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


@_one_at_a_time
def rename_line(hub: Hub, line: str, names: dict[str, str], *, by: str) -> None:
    """A line's name per language (blank ones dropped)."""
    lines = _rows(hub.config.lines, line, "line")
    clean = {lang: text.strip() for lang, text in names.items() if text.strip()}
    lines[_index(lines, line)]["name"] = clean
    shown = clean.get(hub.config.default_language, "")
    _change(hub, {"lines": lines}, f"renamed line {line} to {shown!r}", by)


@_one_at_a_time
def save_counter(hub: Hub, counter: str, name: str, lines: list[str], *, by: str) -> None:
    """A counter's name and lines: changed, or added when the id is new."""
    rows = [known.model_dump(mode="json") for known in hub.config.counters]
    row = {"id": counter, "name": name.strip(), "lines": lines}
    known = [n for n, existing in enumerate(rows) if existing["id"] == counter]
    if known:
        rows[known[0]] = row
    else:
        rows.append(row)
    what = (
        f"{'changed' if known else 'added'} counter {counter} ({row['name']}: {', '.join(lines)})"
    )
    _change(hub, {"counters": rows}, what, by)


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
    return f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"


def _rows(items: Any, wanted: str, what: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [item.model_dump(mode="json") for item in items]
    if not any(row["id"] == wanted for row in rows):
        raise NotFound(f"There is no {what} {wanted!r}.")
    return rows


def _index(rows: list[dict[str, Any]], wanted: str) -> int:
    return next(n for n, row in enumerate(rows) if row["id"] == wanted)


def _change(hub: Hub, update: dict[str, Any], what: str, by: str) -> OfficeConfig:
    """Check the office with `update` as check-config would, store it and audit it."""
    try:
        changed = office_from_document({**office_document(hub.config), **update}, "office")
    except ConfigError as exc:
        raise InvalidOffice(str(exc)) from None
    hub.change_office(changed)
    audit(hub, what, by)
    return changed
