"""The "Get help now" panel: numbers for the person's region, the organisation's lines, first steps.

Invariants: reachable from every window (the `HelpBar` button and F1); calm and clear, with the
numbers large and selectable; every text is plain text; it changes nothing and sends nothing.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.common.forms import name_buttons
from ui.common.labels import PlainLabel
from ui.crisis.data import (
    FIRST_STEPS,
    LOCAL_EMERGENCY_LINE,
    CrisisEntry,
    entries_for,
)

__all__ = ["CrisisPanel"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("crisis", text)


class CrisisPanel(QDialog):
    """A non-modal dialog; `set_region` and `set_organisation_entries` refresh its content.

    Signal: `quick_exit_requested()` from its own Quick exit button.
    """

    quick_exit_requested = Signal()

    def __init__(
        self,
        region: str = "ID",
        organisation: tuple[CrisisEntry, ...] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("crisisPanel")
        self.setModal(False)
        self.setMinimumWidth(640)
        self._region = region
        self._organisation = organisation
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(24, 20, 24, 20)
        self._layout.setSpacing(12)
        self._body = QWidget()
        self._layout.addWidget(self._body)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self._buttons = buttons
        self.exit_button = QPushButton()
        self.exit_button.setObjectName("quickExitButton")
        buttons.addButton(self.exit_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.exit_button.clicked.connect(self.quick_exit_requested)
        buttons.rejected.connect(self.hide)
        self._close = buttons.button(QDialogButtonBox.StandardButton.Close)
        self._layout.addWidget(buttons)
        self.retranslate_ui()

    def set_region(self, region: str) -> None:
        self._region = region
        self.retranslate_ui()

    def set_organisation_entries(self, entries: tuple[CrisisEntry, ...]) -> None:
        self._organisation = entries
        self.retranslate_ui()

    def shown_numbers(self) -> list[str]:
        """The numbers on the panel, in order (for tests and automation)."""
        return [e.number for e in (*entries_for(self._region), *self._organisation)]

    def retranslate_ui(self) -> None:
        self.setWindowTitle(self.tr("Get help now"))
        name_buttons(self._buttons)
        self.exit_button.setText(self.tr("Quick exit"))
        old = self._body
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        title = PlainLabel(self.tr("You are not alone. Help is available now."))
        title.setProperty("role", "title")
        title.setWordWrap(True)
        layout.addWidget(title)

        regional = entries_for(self._region)
        if regional or self._organisation:
            card = QFrame()
            card.setProperty("role", "card")
            card_layout = QVBoxLayout(card)
            card_layout.setContentsMargins(16, 12, 16, 12)
            card_layout.setSpacing(12)
            for entry in (*regional, *self._organisation):
                name = _tr(entry.name) if entry.translatable else entry.name
                note = _tr(entry.note) if entry.translatable and entry.note else entry.note
                row = QHBoxLayout()
                row.setSpacing(18)
                number = PlainLabel(entry.number)
                number.setObjectName("crisisNumber")
                number.setStyleSheet("font-size: 18pt; font-weight: 700;")
                number.setMinimumWidth(170)
                number.setAccessibleName(f"{name}: {entry.number}")
                words = QVBoxLayout()
                words.setSpacing(2)
                title = PlainLabel(name)
                title.setWordWrap(True)
                title.setStyleSheet("font-weight: 600;")
                words.addWidget(title)
                if note:
                    detail = PlainLabel(note)
                    detail.setWordWrap(True)
                    detail.setProperty("role", "muted")
                    words.addWidget(detail)
                row.addWidget(number, 0, Qt.AlignmentFlag.AlignTop)
                row.addLayout(words, 1)
                card_layout.addLayout(row)
            layout.addWidget(card)
        if not regional:
            line = PlainLabel(_tr(LOCAL_EMERGENCY_LINE))
            line.setWordWrap(True)
            line.setProperty("role", "subtitle")
            layout.addWidget(line)

        steps_title = PlainLabel(self.tr("What you can do right now"))
        steps_title.setProperty("role", "subtitle")
        layout.addWidget(steps_title)
        for position, step in enumerate(FIRST_STEPS, start=1):
            item = PlainLabel(f"{position}.  {_tr(step)}")
            item.setWordWrap(True)
            layout.addWidget(item)
        self._layout.replaceWidget(old, body)
        old.hide()
        old.setParent(None)
        old.deleteLater()
        self._body = body

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)
