"""Labels that can never render rich text, and button texts that show '&' as typed.

Invariants: `PlainLabel` always uses `Qt.TextFormat.PlainText`, whatever is done to it later,
so untrusted text (a peer's message, a counselor's name from a relay) can never be read as
HTML, load an image or open a link. `ElidedLabel` and `CheckLabel` are `PlainLabel`s too.
Text a person wrote goes into a widget that reads '&' as a keyboard mnemonic (a button, check
box, radio button, group box title, action, tab) only through `literal_ampersands`, so "A & B"
shows as "A & B", not "A  B" with an Alt shortcut.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

__all__ = ["CheckLabel", "ElidedLabel", "PlainLabel", "literal_ampersands"]


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


class ElidedLabel(PlainLabel):
    """One line that never forces its window wider: when short of room it ends in "…" and
    the whole text is its tooltip (and accessible description). `text()` is the whole text."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        self._full = ""
        super().__init__(text, parent)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)

    def setText(self, text: str) -> None:
        self._full = text
        self.setAccessibleDescription(text)
        self.updateGeometry()
        self._elide()

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        """What is on screen now (the whole text, or its start and "…")."""
        return super().text()

    def sizeHint(self) -> QSize:
        m = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + m.left() + m.right() + 2
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        m = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance("M…") + m.left() + m.right()
        return QSize(min(width, self.sizeHint().width()), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, room)
        PlainLabel.setText(self, shown)
        self.setToolTip(self._full if shown != self._full else "")


class CheckLabel(PlainLabel):
    """The wrapping text of a check box (a `QCheckBox`'s own text never wraps, so a long
    Indonesian line would force the window wider). Clicking it clicks its `buddy()`."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        buddy = self.buddy()
        inside = self.rect().contains(event.position().toPoint())
        if isinstance(buddy, QAbstractButton) and buddy.isEnabled() and inside:
            buddy.click()
            buddy.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mouseReleaseEvent(event)


def literal_ampersands(text: str) -> str:
    """`text` for a widget that reads '&' as a mnemonic: each '&' doubled, so it is shown
    exactly as written and gives the widget no Alt shortcut. Screen readers get the text as
    written too (Qt undoes the doubling for the accessible name)."""
    return text.replace("&", "&&")
