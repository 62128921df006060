"""The printed receipt: exact ESC/POS bytes, non-Latin lines as images, and a real TCP printer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from escpos.printer import Dummy, Network
from PIL import Image, ImageChops
from PySide6.QtWidgets import QApplication

from kiosk.receipt import Receipt, fits_code_page, receipt_for, render_text, write_receipt
from nowserving.domain.config import Notify, NotifySms, OfficeConfig
from nowserving.service.local import LocalService
from nowserving.system import i18n
from tests.kiosk.fake_printer import FakePrinter, wait_for

GOLDEN = Path(__file__).parent / "golden"
URL = "http://hub.example:8400/t/abcdefghijklmnopqrstuv"
SHORT_URL = "hub.example:8400/c/K7M2P9QX"

GS = b"\x1d"
ESC = b"\x1b"
RASTER = GS + b"v0"  # GS v 0: raster bit image
QR_NATIVE = GS + b"(k"  # GS ( k: the printer's own 2D codes
CUT = GS + b"V"


def english_receipt() -> Receipt:
    return Receipt(
        office="Riverside City Hall",
        heading="Your ticket",
        service="Building permits",
        label="A-042",
        taken="Taken 2026-11-24 09:00",
        ahead="3 ahead of you",
        wait="Estimated wait: 10–20 min",
        scan="Scan to follow your place in line:",
        url=URL,
        or_visit="or visit",
        short_url=SHORT_URL,
        lang="en",
    )


def printed(receipt: Receipt, profile: str, paper_mm: int = 80) -> bytes:
    printer = Dummy(profile=profile)
    write_receipt(printer, receipt, paper_mm)
    return bytes(printer.output)


def translated_lines(receipt: Receipt) -> list[str]:
    """The lines that come from the resident's language (the rest is names, codes, links)."""
    return [
        receipt.heading,
        receipt.service,
        receipt.taken,
        receipt.ahead,
        receipt.wait,
        receipt.scan,
        receipt.or_visit,
    ]


def raster_images(output: bytes) -> list[Image.Image]:
    """Every GS v 0 image in `output`, decoded back to 1-bit pictures (black = 0)."""
    images = []
    start = output.find(RASTER)
    while start >= 0:
        header = output[start + 3 : start + 8]
        width_bytes = int.from_bytes(header[1:3], "little")
        height = int.from_bytes(header[3:5], "little")
        data = output[start + 8 : start + 8 + width_bytes * height]
        assert len(data) == width_bytes * height, "truncated raster image"
        # ESC/POS raster: 1 = print (black); PIL mode "1" from raw bits: 1 = white.
        inverted = bytes(255 - byte for byte in data)
        images.append(Image.frombytes("1", (width_bytes * 8, height), inverted))
        start = output.find(RASTER, start + 8 + len(data))
    return images


def black_bbox(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The box around the black pixels of a 1-bit image."""
    return ImageChops.invert(image.convert("L")).getbbox()


def solid_black_rows(image: Image.Image) -> list[int]:
    """Rows without a single white pixel: a black bar across the paper."""
    gray = image.convert("L")
    return [y for y in range(gray.height) if gray.crop((0, y, gray.width, y + 1)).getbbox() is None]


# -- golden bytes ----------------------------------------------------------------------------

PROFILES = [("TM-T88V", 80), ("POS-5890", 58)]


@pytest.mark.parametrize(("profile", "paper_mm"), PROFILES)
def test_english_receipt_matches_its_golden_bytes(profile: str, paper_mm: int) -> None:
    output = printed(english_receipt(), profile, paper_mm)
    golden = GOLDEN / f"receipt-en-{profile}.bin"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(output)
        return
    assert golden.exists(), f"{golden.name} is missing: run once with UPDATE_GOLDEN=1"
    expected = golden.read_bytes()
    if output != expected:
        at = next(
            (i for i, (a, b) in enumerate(zip(output, expected, strict=False)) if a != b),
            min(len(output), len(expected)),
        )
        pytest.fail(
            f"{profile}: {len(output)} bytes vs {len(expected)} golden, first difference at "
            f"{at}: {output[at : at + 24]!r} != {expected[at : at + 24]!r}"
        )


@pytest.mark.parametrize(("profile", "paper_mm"), PROFILES)
def test_an_english_receipt_is_all_text(profile: str, paper_mm: int) -> None:
    def no_images(text: str, width: int, size: int) -> Image.Image:
        raise AssertionError(f"{text!r} was drawn as an image")

    printer = Dummy(profile=profile)
    write_receipt(printer, english_receipt(), paper_mm, renderer=no_images)
    assert printer.output == printed(english_receipt(), profile, paper_mm)


def _golden(profile: str) -> bytes:
    path = GOLDEN / f"receipt-en-{profile}.bin"
    if not path.exists():
        pytest.fail(f"{path.name} is missing: run once with UPDATE_GOLDEN=1")
    return path.read_bytes()


@pytest.mark.parametrize("profile", ["TM-T88V", "POS-5890"])
def test_golden_bytes_hold_the_receipt_as_text(profile: str) -> None:
    output = _golden(profile)
    for line in (
        b"Riverside City Hall\n",
        b"Your ticket\n",
        b"A-042\n",
        b"Building permits\n",
        b"Taken 2026-11-24 09:00\n",
        b"3 ahead of you\n",
        b"Scan to follow your place in line:\n",
        b"or visit\n",
        SHORT_URL.encode() + b"\n",
    ):
        assert line in output, line
    assert output.index(b"Riverside City Hall") < output.index(b"A-042")
    assert output.index(b"A-042") < output.index(SHORT_URL.encode())
    # The en dash is not ASCII: the code page is switched for it, never replaced by "?".
    assert b"Estimated wait: 10" in output and b"20 min\n" in output
    assert b"10?20" not in output
    # The label stands out: centred, bold, double width and height (ESC ! 0x30, ESC E 1).
    label = output.index(b"A-042")
    assert ESC + b"!\x30" in output[label - 16 : label]
    assert ESC + b"E\x01" in output[label - 16 : label]


def test_golden_tm_t88v_prints_the_qr_code_natively_and_cuts() -> None:
    output = _golden("TM-T88V")
    assert QR_NATIVE in output
    # GS ( k pL pH cn=1 fn=P m=0 data: store the link, then GS ( k ... 1 Q 0: print it.
    store = QR_NATIVE + (len(URL) + 3).to_bytes(2, "little") + b"1P0" + URL.encode()
    assert store in output
    assert QR_NATIVE + b"\x03\x001Q0" in output[output.index(store) :]
    assert QR_NATIVE + b"\x03\x001C\x06" in output  # module size 6
    assert RASTER not in output  # nothing drawn: all text and a native code
    assert output.index(store) < output.index(b"or visit")
    assert output.endswith(ESC + b"d\x06" + CUT + b"\x00")  # feed past the cutter, full cut


def test_golden_pos_5890_prints_the_qr_code_as_an_image() -> None:
    output = _golden("POS-5890")
    assert QR_NATIVE not in output
    assert URL.encode() not in output  # the long link is only inside the picture
    assert output.count(RASTER) == 1
    (qr,) = raster_images(output)
    assert qr.width == 384  # centred across the whole 58 mm paper width
    box = black_bbox(qr)
    assert box is not None
    left, top, right, bottom = box
    assert abs((right - left) - (bottom - top)) <= 1  # square
    assert abs(left - (qr.width - right)) <= 8  # centred
    assert right - left >= 25 * 6  # a version-2+ code at six dots per module
    # The finder patterns: the top-left module row of the code is solid black for 7 modules.
    assert all(qr.getpixel((x, top + 2)) == 0 for x in range(left, left + 7 * 6))
    assert output.index(RASTER) < output.index(b"or visit")
    # The POS-5890 has no cutter (its profile says so): the paper is fed out, never cut.
    assert CUT not in output
    assert output.endswith(ESC + b"d\x06")


# -- other scripts -------------------------------------------------------------------------
# render_text paints with Qt: those tests take pytest-qt's `qapp`.


@pytest.mark.parametrize("lang", ["zh", "ar"])
def test_non_latin_lines_print_as_images(
    qapp: QApplication, service: LocalService, config: OfficeConfig, lang: str
) -> None:
    ticket = service.issue("permits", lang=lang)
    receipt = receipt_for(config, ticket, URL, SHORT_URL)
    assert (receipt.lang, receipt.label, receipt.office) == (lang, "A-001", "Riverside City Hall")
    assert receipt.service == config.line("permits").name[lang]
    drawn = [line for line in translated_lines(receipt) if not fits_code_page(line)]
    assert len(drawn) == 7  # every translated line

    output = printed(receipt, "TM-T88V")
    assert output.count(RASTER) == len(drawn) >= 3
    images = raster_images(output)
    assert all(image.width == 512 and black_bbox(image) is not None for image in images)
    # Never as code-page text: that would print as garbage.
    name = config.line("permits").name
    assert name["zh"].encode("gb18030") not in output
    assert name["zh"].encode("utf-8") not in output
    assert name["ar"].encode("cp1256") not in output
    assert name["ar"].encode("utf-8") not in output
    # The Latin parts stay text.
    assert b"A-001\n" in output
    assert b"Riverside City Hall\n" in output
    assert SHORT_URL.encode() + b"\n" in output
    assert QR_NATIVE + (len(URL) + 3).to_bytes(2, "little") + b"1P0" + URL.encode() in output
    assert output.endswith(CUT + b"\x00")


def test_non_latin_lines_fit_a_58_mm_printer(
    qapp: QApplication, service: LocalService, config: OfficeConfig
) -> None:
    receipt = receipt_for(config, service.issue("records", lang="zh"), URL, SHORT_URL)
    output = printed(receipt, "POS-5890", 58)
    images = raster_images(output)
    assert len(images) == 7 + 1  # the translated lines and the QR code
    assert all(image.width == 384 for image in images)


def test_render_text_draws_real_glyphs(qapp: QApplication, tmp_path: Path) -> None:
    for name, text, rtl in (("zh", "中文", False), ("ar", "تصاريح البناء", True)):
        image = render_text(text, 512, 26, rtl)
        image.save(tmp_path / f"{name}.png")
        assert image.mode == "1"
        assert image.width == 512
        assert image.height >= 26
        assert solid_black_rows(image) == []
        box = black_bbox(image)
        assert box is not None, f"{name}: blank"
        left, _, right, _ = box
        assert right - left >= 26, f"{name}: too narrow for its glyphs"
        assert abs(left - (512 - right)) <= 4, f"{name}: not centred"
        assert (tmp_path / f"{name}.png").stat().st_size > 0
    zhong = render_text("中", 512, 26)
    wen = render_text("文", 512, 26)
    assert black_bbox(ImageChops.difference(zhong.convert("L"), wen.convert("L"))) is not None


@pytest.mark.parametrize("lang", ["zh", "ar"])
def test_receipt_lines_render_legibly(
    qapp: QApplication, service: LocalService, config: OfficeConfig, lang: str, tmp_path: Path
) -> None:
    receipt = receipt_for(config, service.issue("permits", lang=lang), URL, SHORT_URL)
    for n, line in enumerate(translated_lines(receipt)):
        image = render_text(line, 512, 26, rtl=lang == "ar")
        image.save(tmp_path / f"{lang}-{n}.png")
        assert image.mode == "1" and image.width == 512
        assert black_bbox(image) is not None, line
    assert len(list(tmp_path.glob(f"{lang}-*.png"))) == 7


def test_a_wrapped_line_prints_without_a_black_bar(
    qapp: QApplication, service: LocalService, config: OfficeConfig
) -> None:
    # No counter is open yet: the Chinese wait line wraps on 58 mm paper.
    receipt = receipt_for(config, service.issue("permits", lang="zh"), URL, SHORT_URL)
    assert receipt.wait == "预计等候时间: 此业务暂时没有开放的窗口"
    image = render_text(receipt.wait, 384, 26)
    assert image.height > 2 * 26  # two rows
    assert solid_black_rows(image) == []


# -- a real network printer ------------------------------------------------------------------


def test_a_network_printer_gets_exactly_the_receipt_bytes() -> None:
    expected = printed(english_receipt(), "TM-T88V")
    with FakePrinter("ok") as fake:
        printer = Network(fake.host, fake.port, timeout=3, profile="TM-T88V")
        printer.open()
        try:
            write_receipt(printer, english_receipt())
        finally:
            printer.close()
        assert wait_for(lambda: len(fake.received) >= len(expected), timeout=3)
        assert fake.received == expected
        assert fake.connections == 1


def test_where_text_messages_are_offered_the_receipt_says_the_number_is_not_kept(
    qapp: QApplication, service: LocalService, config: OfficeConfig
) -> None:
    offering = config.model_copy(
        update={"notify": Notify(sms=NotifySms(url="http://127.0.0.1:9/sms"))}
    )
    ticket = service.issue("permits", lang="es")
    assert receipt_for(config, ticket, URL, SHORT_URL).phone_note == ""
    receipt = receipt_for(offering, ticket, URL, SHORT_URL)
    assert receipt.phone_note == i18n.text("es", "receipt.phone_note")
    output = printed(receipt, "TM-T88V")
    assert output.index(SHORT_URL.encode()) < output.index(b"se borra al terminar su visita")
