"""What the three Qt apps share: bootstrap, theme, background work, QR codes, speech.

Kept apart from `nowserving/` so the core never imports Qt.
"""

from nowserving_qt import qtlog

qtlog.install()  # first thing: Qt's multimedia prints while the apps are being imported
