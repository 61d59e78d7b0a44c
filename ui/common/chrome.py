"""The bar at the top of every window: the app's name, "Get help now" and "Quick exit".

Invariant: every top-level window of the app carries one `HelpBar`, so crisis help and the quick
exit are always one click away. The bar only emits signals; the app decides what they do.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QPushButton, QWidget

from ui.common.labels import ElidedLabel, PlainLabel

__all__ = ["HelpBar"]


class HelpBar(QFrame):
    """Signals: `help_requested()`, `quick_exit_requested()`, `language_chosen(code: str)`."""

    help_requested = Signal()
    quick_exit_requested = Signal()
    language_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("helpBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        self.title = PlainLabel()
        self.title.setProperty("role", "subtitle")
        # a long state or error ends in "…" (whole in its tooltip) rather than widen the window
        self.status = ElidedLabel()
        self.status.setProperty("role", "muted")
        self.status.setObjectName("connectionStatus")
        self.help_button = QPushButton()
        self.help_button.setObjectName("getHelpButton")
        self.exit_button = QPushButton()
        self.exit_button.setObjectName("quickExitButton")
        layout.addWidget(self.title)
        layout.addSpacing(12)
        layout.addWidget(self.status, 1)
        self.language_box = QComboBox()
        self.language_box.setObjectName("languageSwitch")
        self.language_box.addItem("English", "en")
        self.language_box.addItem("Bahasa Indonesia", "id")
        self.language_box.activated.connect(
            lambda _i: self.language_chosen.emit(str(self.language_box.currentData()))
        )
        layout.addWidget(self.language_box)
        layout.addWidget(self.help_button)
        layout.addWidget(self.exit_button)
        self.help_button.clicked.connect(self.help_requested)
        self.exit_button.clicked.connect(self.quick_exit_requested)
        self.retranslate_ui()

    def show_language(self, code: str) -> None:
        """Reflect the current language without emitting `language_chosen`."""
        self.language_box.setCurrentIndex(max(0, self.language_box.findData(code)))

    def retranslate_ui(self) -> None:
        self.language_box.setAccessibleName(self.tr("Language"))
        self.title.setText(self.tr("SecureChat"))
        self.help_button.setText(self.tr("Get help now"))
        self.help_button.setToolTip(self.tr("Emergency numbers and what to do right now (F1)"))
        self.help_button.setAccessibleName(self.tr("Get help now"))
        self.exit_button.setText(self.tr("Quick exit"))
        self.exit_button.setToolTip(
            self.tr("Hide everything and lock at once (Ctrl+Shift+Q, or Esc twice)")
        )
        self.exit_button.setAccessibleName(self.tr("Quick exit"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)
