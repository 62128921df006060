"""The addresses printed on a receipt and put in its QR code."""

from __future__ import annotations

from nowserving.domain.config import OfficeConfig
from nowserving.domain.rules import short_code


def ticket_url(config: OfficeConfig, token: str, lang: str = "") -> str:
    """The resident's live page: what the QR code holds.

    With the resident's language, so that even a ticket the hub does not know yet (its
    kiosk is cut off) opens a page they can read.
    """
    page = f"{config.office.public_base_url}/t/{token}"
    return f"{page}?lang={lang}" if lang else page


def booking_url(config: OfficeConfig, token: str, lang: str) -> str:
    """A booking's page: its code and QR, cancel and move (the token is its secret)."""
    return f"{config.office.public_base_url}/a/{token}?lang={lang}"


def short_url(config: OfficeConfig, token: str) -> str:
    """The same page, short enough to type: host/c/CODE (no scheme)."""
    host = config.office.public_base_url.split("://", 1)[-1]
    return f"{host}/c/{short_code(token)}"
