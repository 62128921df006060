"""What the three Qt apps share: bootstrap, theme, background work, QR codes, speech.

Kept apart from `nowserving/` so the core never imports Qt.
"""
