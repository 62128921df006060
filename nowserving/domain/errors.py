"""Errors the user can act on. Anything else is a bug and is allowed to crash loudly."""

from __future__ import annotations


class NowservingError(Exception):
    """Base class: its message is written for the person in front of the screen."""


class ConfigError(NowservingError):
    """The office config file is missing, unreadable or invalid."""


class StoreError(NowservingError):
    """The store cannot be used: damaged, from a newer version, or the disk is full."""


class StoreFullError(StoreError):
    """The disk (or the store's size limit) is full; nothing was written."""


class HubUnavailable(NowservingError):
    """The hub cannot be reached (network down, hub stopped); the last state stays up."""


class DeviceRemoved(HubUnavailable):
    """The hub revoked this device: nothing more syncs until it is paired again (screens
    say so, in place of "reconnecting")."""


class Rejected(NowservingError):
    """An operation that the rules do not allow in the current state (nothing was written).

    The message is English, for staff, logs and the API. A refusal a resident can meet
    also has a stable `code` ("line_paused"): screens show the catalog's `error.<code>`
    in the resident's language, and the hub's problem answers carry it.
    """

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class NotFound(Rejected):
    """An unknown line, counter, ticket or token."""


class OverBudget(Rejected):
    """The office spent what it may on something today (text messages): try tomorrow."""


# The codes of refusals a resident can meet (each has `error.<code>` in every catalog).
RESIDENT_ERRORS = (
    "line_paused",
    "line_closed",
    "line_full",
    "remote_closed",
    "slot_full",
    "slot_unknown",
    "no_booking",
    "too_many_bookings",
    "bad_contact",
    "booking_unknown",
    "office_closed",
    "line_removed",
    "no_such_line",
    "remote_not_allowed",
    "remote_full",
    "ticket_unknown",
    "ticket_finished",
    "bad_phone",
    "address_cap",
    "sms_budget",
)
