"""QR codes as Qt images, drawn crisp at any size from the qrcode library's matrix."""

from __future__ import annotations

import qrcode
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap


def qr_image(text: str, size: int, *, dark: str = "#000000", light: str = "#ffffff") -> QImage:
    """A square image of `size` px with a quiet zone, error correction M."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(QColor(light))
    painter = QPainter(image)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(dark))
    cell = size / len(matrix)
    for row, cells in enumerate(matrix):
        for column, filled in enumerate(cells):
            if filled:
                painter.drawRect(QRectF(column * cell, row * cell, cell + 0.5, cell + 0.5))
    painter.end()
    return image


def qr_pixmap(text: str, size: int) -> QPixmap:
    return QPixmap.fromImage(qr_image(text, size))
