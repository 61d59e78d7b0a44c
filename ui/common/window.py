"""The base of every top-level window: the help bar on top, the content below.

Invariant: every window built on `AppWindow` shows "Get help now" and "Quick exit" and answers
`LanguageChange` by calling `retranslate_ui()` (which subclasses extend).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QMainWindow, QVBoxLayout, QWidget

from ui.common.chrome import HelpBar

__all__ = ["AppWindow"]


class AppWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.help_bar = HelpBar()
        outer.addWidget(self.help_bar)
        self.content = QWidget()
        outer.addWidget(self.content, 1)
        self.setCentralWidget(central)

    def retranslate_ui(self) -> None:
        """Subclasses set their texts here."""

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)
