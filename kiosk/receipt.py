"""The printed receipt, written with python-escpos.

Latin text goes as text (python-escpos picks the code page). Any line that the
printer's code pages cannot hold (Chinese, Arabic, Vietnamese) is drawn by Qt
(which shapes Arabic and lays out right-to-left) and printed as an image, so
mixed scripts never turn into garbage. The QR code uses the printer's own QR
command when its profile has one, else an image.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from escpos.escpos import Escpos
from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

from nowserving.domain.config import OfficeConfig
from nowserving.domain.views import TicketView
from nowserving.system import i18n
from nowserving_qt.bootstrap import FONT_FAMILIES

TextRenderer = Callable[[str, int, int], Image.Image]


@dataclass(frozen=True)
class Receipt:
    """Everything printed on one ticket, already in the resident's language."""

    office: str
    heading: str
    service: str
    label: str
    taken: str
    ahead: str
    wait: str
    scan: str
    url: str
    or_visit: str
    short_url: str
    lang: str
    phone_note: str = ""  # how long a number left for text messages is kept (when offered)
    created: float = field(default_factory=time.monotonic, compare=False)


def receipt_for(config: OfficeConfig, ticket: TicketView, url: str, short_url: str) -> Receipt:
    lang = ticket.lang or config.default_language
    taken = datetime.fromtimestamp(ticket.issued_at / 1000, ZoneInfo(config.office.timezone))
    return Receipt(
        office=config.office.name,
        heading=i18n.text(lang, "receipt.title"),
        service=config.text(config.line(ticket.line).name, lang),
        label=ticket.label,
        taken=i18n.text(lang, "receipt.taken", time=taken.strftime("%Y-%m-%d %H:%M")),
        ahead=i18n.ahead_text(lang, ticket.ahead),
        wait=f"{i18n.text(lang, 'common.estimated_wait')}: " + i18n.wait_text(lang, ticket.wait),
        scan=i18n.text(lang, "receipt.scan"),
        url=url,
        or_visit=i18n.text(lang, "receipt.or_visit"),
        short_url=short_url,
        lang=lang,
        phone_note=i18n.text(lang, "receipt.phone_note") if "sms" in config.notify.channels else "",
    )


def paper_pixels(printer: Escpos, paper_mm: int) -> int:
    """Printable width in dots, from the printer profile or the paper width."""
    pixels = printer.profile.profile_data.get("media", {}).get("width", {}).get("pixels")
    return pixels if isinstance(pixels, int) else (384 if paper_mm <= 58 else 512)


def fits_code_page(text: str) -> bool:
    """Whether the printer's Western code pages can hold `text` as text."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def render_text(text: str, width: int, size: int, rtl: bool = False) -> Image.Image:
    """One line of any script, drawn by Qt (needs a QGuiApplication) as a 1-bit image."""
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPixelSize(size)
    flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
    # Measure first, so a line that wraps gets all the height it needs.
    needed = QFontMetrics(font).boundingRect(QRect(0, 0, width, 100_000), flags, text)
    box = QRect(0, 0, width, max(needed.height(), size) + 4)
    image = QImage(box.width(), box.height(), QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setFont(font)
    painter.setPen(QColor("black"))
    painter.setLayoutDirection(
        Qt.LayoutDirection.RightToLeft if rtl else Qt.LayoutDirection.LeftToRight
    )
    painter.drawText(box, flags, text)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # stub: bytes; runtime: str only
    return Image.open(io.BytesIO(buffer.data().data())).convert("1")


def write_receipt(
    printer: Escpos, receipt: Receipt, paper_mm: int = 80, renderer: TextRenderer | None = None
) -> None:
    """Send the whole receipt, ending with a cut."""
    width = paper_pixels(printer, paper_mm)
    rtl = i18n.direction(receipt.lang) == "rtl"
    draw = renderer or (lambda text, w, size: render_text(text, w, size, rtl))

    def line(text: str, size: int = 26, **style: bool) -> None:
        if fits_code_page(text):
            printer.set(align="center", normal_textsize=True, **style)
            printer.textln(text)
        else:
            printer.image(draw(text, width, size), center=True)

    line(receipt.office, bold=True)
    line(receipt.heading)
    printer.set(align="center", bold=True, double_width=True, double_height=True)
    printer.textln(receipt.label)  # always ASCII: A-042
    line(receipt.service, size=32, bold=True)
    line(receipt.taken)
    line(receipt.ahead)
    line(receipt.wait)
    printer.ln()
    line(receipt.scan)
    if printer.profile.supports("qrCode"):
        printer.set(align="center", normal_textsize=True)
        printer.qr(receipt.url, size=6, native=True)
    else:
        printer.qr(receipt.url, size=6, center=True)
    line(receipt.or_visit)
    printer.set(align="center", normal_textsize=True)
    printer.textln(receipt.short_url)
    if receipt.phone_note:
        line(receipt.phone_note, size=22)
    printer.cut()
