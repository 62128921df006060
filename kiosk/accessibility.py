"""The bar on every kiosk screen: larger text, high contrast, lower screen, voice guidance."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QWidget

from kiosk.flow import Accessibility
from nowserving.system import i18n
from nowserving_qt.theme import Palette
from nowserving_qt.widgets import button, toggle_icon

AIDS = (
    ("large_text", "kiosk.larger_text", "text-larger"),
    ("high_contrast", "kiosk.high_contrast", "contrast"),
    ("low_reach", "kiosk.low_reach", "low-reach"),
    ("voice", "kiosk.voice", "voice"),
)
CYCLE_MS = 3000  # before a language is chosen, each label shows each language in turn


class AccessibilityBar(QWidget):
    """Signals:
    toggled: (aid name, on).
    back: the Back button, which lives here so it is always within reach.
    """

    toggled = Signal(str, bool)
    back = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.back_button = button("", "back")
        self.back_button.clicked.connect(self.back.emit)
        self.buttons: dict[str, QPushButton] = {}
        for name, _key, _picture in AIDS:
            toggle = button("", "tool")
            toggle.setCheckable(True)
            toggle.toggled.connect(lambda on, aid=name: self.toggled.emit(aid, on))
            self.buttons[name] = toggle
        self.printer = QLabel()
        self.printer.setProperty("role", "warning")
        self.printer.hide()
        self._columns = 0
        self._arrange(len(AIDS))
        self._languages: list[str] = []
        self._turn = 0
        self._cycle = QTimer(self, interval=CYCLE_MS)
        self._cycle.timeout.connect(self._next_language)

    def _arrange(self, columns: int) -> None:
        """Back, then the aids in `columns` columns (two rows when one is too narrow)."""
        if columns == self._columns:
            return
        self._columns = columns
        for widget in (self.back_button, *self.buttons.values(), self.printer):
            self.grid.removeWidget(widget)
        rows = -(-len(AIDS) // columns)
        self.grid.addWidget(self.back_button, 0, 0, rows, 1)
        for n, toggle in enumerate(self.buttons.values()):
            self.grid.addWidget(toggle, n // columns, 1 + n % columns)
        self.grid.addWidget(self.printer, 0, 2 + columns, rows, 1)
        for column in range(2 + len(AIDS)):
            self.grid.setColumnStretch(column, 0)
        self.grid.setColumnStretch(1 + columns, 1)  # the room left over, before the printer note

    def render_view(
        self,
        aids: Accessibility,
        lang: str,
        icon_size: int,
        printer_problem: bool,
        palette: Palette,
        can_go_back: bool,
        languages: Sequence[str] = (),
    ) -> None:
        """`languages`: before a resident has chosen one (the welcome screen), the aids are
        labelled in each of these in turn, and named in all of them for voice guidance."""
        self.back_button.setText(i18n.text(lang, "common.back"))
        self.back_button.setAccessibleName(i18n.text(lang, "common.back"))
        self.back_button.setVisible(can_go_back)
        for name, _key, picture in AIDS:
            toggle = self.buttons[name]
            toggle.setIcon(toggle_icon(picture, icon_size, palette.primary, palette.on_primary))
            toggle.blockSignals(True)
            toggle.setChecked(getattr(aids, name))
            toggle.blockSignals(False)
            toggle.setIconSize(QSize(icon_size, icon_size))
        if list(languages or [lang]) != self._languages:
            self._languages, self._turn = list(languages or [lang]), 0
        if len(self._languages) > 1 and not self._cycle.isActive():
            self._cycle.start()
        elif len(self._languages) == 1:
            self._cycle.stop()
        # Discreet: residents see a small note; staff get the details as an alert.
        self.printer.setText(i18n.text(lang, "kiosk.printer_problem"))
        self.printer.setVisible(printer_problem)
        self._label_aids()

    def _next_language(self) -> None:
        self._turn = (self._turn + 1) % len(self._languages)
        self._label_aids()

    def _label_aids(self) -> None:
        shown_in = self._languages[self._turn]
        for name, key, _picture in AIDS:
            toggle = self.buttons[name]
            toggle.setText(i18n.text(shown_in, key))
            toggle.setAccessibleName(" · ".join(i18n.text(lang, key) for lang in self._languages))
        self._fit()

    def _fit(self) -> None:
        """One row of aids when they fit in the labels shown now, else two."""
        shown = [w for w in (self.back_button, self.printer) if not w.isHidden()]
        needed = sum(w.sizeHint().width() for w in [*shown, *self.buttons.values()])
        spacing = self.grid.horizontalSpacing() * (len(shown) + len(AIDS))
        fits = needed + spacing <= (self.parentWidget() or self).width() * 0.95
        self._arrange(len(AIDS) if fits else 2)
