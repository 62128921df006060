"""Line control (staff allowed to): pause and resume, reroute, the lobby announcement."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nowserving.domain.config import OfficeConfig
from nowserving.domain.views import BoardView
from nowserving.system import i18n


class LineControlPanel(QWidget):
    """Signals:
    action: (action name, line id, extra dict).
    """

    action = Signal(str, str, dict)

    def __init__(self, config: OfficeConfig) -> None:
        super().__init__()
        self.config = config
        layout = QVBoxLayout(self)
        lines_box = QGroupBox("Lines")
        grid = QGridLayout(lines_box)
        self.state: dict[str, QLabel] = {}
        self.reason: dict[str, QComboBox] = {}
        self.pause: dict[str, QPushButton] = {}
        self.target: dict[str, QComboBox] = {}
        self.reroute: dict[str, QPushButton] = {}
        for row, line in enumerate(config.lines):
            name = QLabel(f"{line.prefix}  {config.text(line.name, 'en')}")
            self.state[line.id] = QLabel()
            self.reason[line.id] = self._reasons()
            self.pause[line.id] = QPushButton()
            self.pause[line.id].clicked.connect(lambda _=False, ln=line.id: self._toggle_pause(ln))
            self.target[line.id] = QComboBox()
            for other in config.lines:
                if other.id != line.id:
                    self.target[line.id].addItem(config.text(other.name, "en"), other.id)
            self.reroute[line.id] = QPushButton()
            self.reroute[line.id].clicked.connect(
                lambda _=False, ln=line.id: self._toggle_reroute(ln)
            )
            for column, widget in enumerate(
                (
                    name,
                    self.state[line.id],
                    self.reason[line.id],
                    self.pause[line.id],
                    self.target[line.id],
                    self.reroute[line.id],
                )
            ):
                grid.addWidget(widget, row, column)
        layout.addWidget(lines_box)
        other_box = QGroupBox("Other pause reason, in each language")
        other_form = QFormLayout(other_box)
        self.other_reason: dict[str, QLineEdit] = {}
        for lang in config.office.languages:
            self.other_reason[lang] = QLineEdit()
            self.other_reason[lang].setMaxLength(200)
            other_form.addRow(i18n.language_name(lang), self.other_reason[lang])
        ticker = QGroupBox("Lobby announcement (empty clears it)")
        form = QFormLayout(ticker)
        self.announcement: dict[str, QLineEdit] = {}
        for lang in config.office.languages:
            self.announcement[lang] = QLineEdit()
            self.announcement[lang].setMaxLength(500)
            form.addRow(i18n.language_name(lang), self.announcement[lang])
        save = QPushButton("Show in the lobby")
        save.clicked.connect(self._announce)
        form.addRow(save)
        self.save = save
        # Side by side: each has a field per office language, and stacked they would not fit
        # a 1280x800 screen.
        texts = QHBoxLayout()
        texts.addWidget(other_box, 1)
        texts.addWidget(ticker, 1)
        layout.addLayout(texts)
        layout.addStretch(1)
        self._paused: dict[str, bool] = {}
        self._rerouted: dict[str, bool] = {}

    def _reasons(self) -> QComboBox:
        """The office's common reasons, already translated, then "Other" (typed below)."""
        choice = QComboBox()
        first = self.config.default_language
        for reason in self.config.pause_reasons:
            choice.addItem(self.config.text(reason.text, first), reason.id)
        choice.addItem("Other (type it below)", "")
        return choice

    def _toggle_pause(self, line: str) -> None:
        if self._paused.get(line):
            self.action.emit("resume_line", line, {})
            return
        reason: str | dict[str, str] = self.reason[line].currentData() or {
            lang: field.text() for lang, field in self.other_reason.items() if field.text().strip()
        }
        self.action.emit("pause_line", line, {"reason": reason})

    def _toggle_reroute(self, line: str) -> None:
        if self._rerouted.get(line):
            self.action.emit("end_reroute", line, {})
        else:
            self.action.emit("reroute_line", line, {"to_line": self.target[line].currentData()})

    def _announce(self) -> None:
        texts = {lang: field.text() for lang, field in self.announcement.items()}
        self.action.emit("set_announcement", "", {"texts": texts})

    def render_view(self, board: BoardView) -> None:
        names = {line.id: self.config.text(line.name, "en") for line in self.config.lines}
        for line in board.lines:
            self._paused[line.id] = line.paused
            self._rerouted[line.id] = line.reroute_to is not None
            if line.paused:
                state = f"Paused: {line.pause_reason}"
            elif line.reroute_to:
                state = f"Rerouted to {names[line.reroute_to]}"
            else:
                state = f"Open · {line.waiting} waiting"
            self.state[line.id].setText(state)
            self.pause[line.id].setText("Resume" if line.paused else "Pause")
            self.reroute[line.id].setText("End reroute" if line.reroute_to else "Reroute to")
            self.target[line.id].setEnabled(line.reroute_to is None)
        for lang, field in self.announcement.items():
            if not field.hasFocus():
                field.setText(board.announcement.get(lang, ""))
