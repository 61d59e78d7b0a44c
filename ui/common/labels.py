"""Labels that can never render rich text.

Invariant: `PlainLabel` always uses `Qt.TextFormat.PlainText`, whatever is done to it later,
so untrusted text (a peer's message, a counselor's name from a relay) can never be read as
HTML, load an image or open a link.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

__all__ = ["PlainLabel"]


class PlainLabel(QLabel):
    """A `QLabel` pinned to plain text; `setTextFormat` cannot change that."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        super().setTextFormat(Qt.TextFormat.PlainText)
        self.setOpenExternalLinks(False)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setText(text)

    def setTextFormat(self, _format: Qt.TextFormat) -> None:
        super().setTextFormat(Qt.TextFormat.PlainText)

    def setText(self, text: str) -> None:
        super().setTextFormat(Qt.TextFormat.PlainText)
        super().setText(text)
