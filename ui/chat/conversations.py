"""The list of conversations, newest activity first.

Invariants: shows the peer's name (plain text, via the default delegate's plain display) and
an unread count in words; `clear()` drops every entry. A peer whose name another peer in the
list shares (`ConversationView.same_name_peers`, counted by the core) is marked "⚠ same name"
on a second line of its row, and the row's tooltip and accessible description say why that matters: names are
self-chosen, only the safety number tells people apart. The tooltip holds none of the peer's
text (Qt may read a tooltip as rich text).
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from securechat.api import ConversationView

__all__ = ["CONVERSATION_ROLE", "ConversationListModel", "same_name_text"]

CONVERSATION_ROLE = int(Qt.ItemDataRole.UserRole) + 2
_Index = QModelIndex | QPersistentModelIndex


def same_name_text() -> str:
    """Why a peer is marked "same name" (the list's tooltip, the chat's banner). It says
    neither that it is the same person nor that it is not: only the safety number can."""
    return QCoreApplication.translate(
        "sameName",
        "Another conversation has the same name. Names are chosen by people themselves; "
        "compare safety numbers before you treat them as the same person.",
    )


class ConversationListModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ConversationView] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = int(Qt.ItemDataRole.DisplayRole)) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        view = self._rows[index.row()]
        if role == CONVERSATION_ROLE:
            return view
        if role in (int(Qt.ItemDataRole.DisplayRole), int(Qt.ItemDataRole.AccessibleTextRole)):
            text = view.peer_name
            if view.unread:
                text += "  ·  " + self.tr("%n new", "", view.unread)
            if not view.active:
                text += "  ·  " + self.tr("closed")
            if view.same_name_peers:
                # a line of its own: a narrow list shortens the first line, never the mark
                joint = "\n" if role == int(Qt.ItemDataRole.DisplayRole) else "  ·  "
                text += joint + self.tr("⚠ same name")
            return text
        if role == int(Qt.ItemDataRole.ToolTipRole) and view.same_name_peers:
            # a plain-text tooltip does not wrap by itself
            return textwrap.fill(same_name_text(), 60)
        if role == int(Qt.ItemDataRole.AccessibleDescriptionRole) and view.same_name_peers:
            return same_name_text()
        return None

    def set_conversations(self, views: Sequence[ConversationView]) -> None:
        self.beginResetModel()
        self._rows = sorted(views, key=lambda v: v.last_activity, reverse=True)
        self.endResetModel()

    def find(self, conversation_id: str) -> int | None:
        for row, view in enumerate(self._rows):
            if view.conversation_id == conversation_id:
                return row
        return None

    def view(self, row: int) -> ConversationView:
        return self._rows[row]

    def mark_read(self, conversation_id: str) -> None:
        """Show `conversation_id` without its unread count (it is open: its newest messages
        are on screen, and reading them cleared the count in the core)."""
        row = self.find(conversation_id)
        if row is not None and self._rows[row].unread:
            self._rows[row] = dataclasses.replace(self._rows[row], unread=0)
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self.endResetModel()
