"""Labels that can never render rich text, and button texts that show '&' as typed.

Invariants: `PlainLabel` always uses `Qt.TextFormat.PlainText`, whatever is done to it later,
so untrusted text (a peer's message, a counselor's name from a relay) can never be read as
HTML, load an image or open a link. Text a person wrote goes into a widget that reads '&' as
a keyboard mnemonic (a button, check box, radio button, group box title, action, tab) only
through `literal_ampersands`, so "A & B" shows as "A & B", not "A  B" with an Alt shortcut.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

__all__ = ["PlainLabel", "literal_ampersands"]


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


def literal_ampersands(text: str) -> str:
    """`text` for a widget that reads '&' as a mnemonic: each '&' doubled, so it is shown
    exactly as written and gives the widget no Alt shortcut. Screen readers get the text as
    written too (Qt undoes the doubling for the accessible name)."""
    return text.replace("&", "&&")
