"""The list of conversations, newest activity first.

Invariants: shows the peer's name (plain text, via the default delegate's plain display) and
an unread count in words; `clear()` drops every entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from securechat.api import ConversationView

__all__ = ["CONVERSATION_ROLE", "ConversationListModel"]

CONVERSATION_ROLE = int(Qt.ItemDataRole.UserRole) + 2
_Index = QModelIndex | QPersistentModelIndex


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
            return text
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
