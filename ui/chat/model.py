"""The paged message model: a conversation of any length opens with its newest page only.

Job: a `QAbstractListModel` over one conversation's history. It asks the bridge for
`message_count`, then loads the newest page with `history(offset, limit)`; older pages load
through Qt's `canFetchMore`/`fetchMore` when the view scrolls to the top; newer messages
(sent or received) are appended with `load_newer()`.

Offsets follow the contract's `history(offset, limit)`, read as: position from the oldest
message (0) upwards, in chronological order. Row r of the model is message `start + r`.

Invariants:
- At most the loaded pages are in memory, never the whole history.
- `canFetchMore` is true only when the view says the top is visible, so Qt's automatic
  fetching (when the last row is visible) cannot walk through the whole history.
- Message ids are unique in the model (a page that overlaps a later append is de-duplicated).
- `clear()` drops every loaded message (quick exit, lock).

Signals:
- `opened()`: the first page is in.
- `older_loaded(count: int)`: `count` older rows were inserted at the top.
- `newer_loaded(count: int)`: `count` rows were appended at the bottom.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QDateTime,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from securechat.api import DeliveryState, MessageKind, MessageView
from ui.bridge import Bridge

__all__ = ["MESSAGE_ROLE", "MessageListModel", "state_text"]

MESSAGE_ROLE = int(Qt.ItemDataRole.UserRole) + 1
_Index = QModelIndex | QPersistentModelIndex


def state_text(state: DeliveryState) -> tuple[str, str]:
    """(mark, words) for a delivery state; words make it readable without colour."""
    if state is DeliveryState.QUEUED:
        return "◷", QCoreApplication.translate("delivery", "Waiting to send")
    if state is DeliveryState.SENT:
        return "✓", QCoreApplication.translate("delivery", "Sent")
    if state is DeliveryState.DELIVERED:
        return "✓✓", QCoreApplication.translate("delivery", "Delivered")
    # refused by the relay for good, or never read: the other person ended the conversation
    return "⚠", QCoreApplication.translate("delivery", "Not delivered")


class MessageListModel(QAbstractListModel):
    opened = Signal()
    older_loaded = Signal(int)
    newer_loaded = Signal(int)

    def __init__(
        self,
        bridge: Bridge,
        conversation_id: str,
        page_size: int = 100,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.conversation_id = conversation_id
        self.page_size = page_size
        self._rows: list[MessageView] = []
        self._ids: dict[str, int] = {}  # message id -> absolute offset
        self._start = 0
        self._fetching_older = False
        self._fetching_newer = False
        self._again = False
        self._older_wanted = False
        self.is_open = False

    # --- Qt model API ----------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = int(Qt.ItemDataRole.DisplayRole)) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        message = self._rows[index.row()]
        if role == MESSAGE_ROLE:
            return message
        if role == int(Qt.ItemDataRole.DisplayRole):
            return message.text
        if role == int(Qt.ItemDataRole.AccessibleTextRole):
            return self.describe(message)
        return None

    def canFetchMore(self, parent: _Index) -> bool:
        return (
            not parent.isValid()
            and self.is_open
            and self._start > 0
            and self._older_wanted
            and not self._fetching_older
        )

    def fetchMore(self, parent: _Index) -> None:
        if not self.canFetchMore(parent):
            return
        count = min(self.page_size, self._start)
        offset = self._start - count
        self._fetching_older = True
        cid = self.conversation_id
        self._bridge.call(
            lambda s: s.history(cid, offset, count),
            lambda page: self.on_older_page(offset, page),
            lambda _e: self._older_failed(),
            owner=self,
        )

    # --- loading ---------------------------------------------------------------------

    def open(self) -> None:
        """Count the messages, then load the newest page."""
        cid = self.conversation_id
        self._bridge.call(lambda s: s.message_count(cid), self.on_counted, owner=self)

    def on_counted(self, total: int) -> None:
        start = max(0, total - self.page_size)
        cid = self.conversation_id
        self._bridge.call(
            lambda s: s.history(cid, start, total - start),
            lambda page: self.on_first_page(start, page),
            owner=self,
        )

    def on_first_page(self, start: int, page: Sequence[MessageView]) -> None:
        self.beginResetModel()
        self._start = start
        self._rows = list(page)
        self._ids = {m.message_id: start + i for i, m in enumerate(self._rows)}
        self.endResetModel()
        self.is_open = True
        self.opened.emit()

    def set_older_wanted(self, wanted: bool) -> None:
        """The view tells whether its top is visible (older pages may load)."""
        self._older_wanted = wanted

    def can_load_older(self) -> bool:
        return self.is_open and self._start > 0

    def on_older_page(self, offset: int, page: Sequence[MessageView]) -> None:
        self._fetching_older = False
        fresh = [m for m in page if m.message_id not in self._ids]
        if not fresh:
            return
        self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
        self._rows[0:0] = fresh
        self._start = offset
        self._ids = {m.message_id: offset + i for i, m in enumerate(self._rows)}
        self.endInsertRows()
        self.older_loaded.emit(len(fresh))

    def _older_failed(self) -> None:
        self._fetching_older = False

    def load_newer(self) -> None:
        """Append whatever follows the last loaded message (after a send or an arrival)."""
        if not self.is_open:
            return
        if self._fetching_newer:
            self._again = True
            return
        self._fetching_newer = True
        end = self._start + len(self._rows)
        cid = self.conversation_id
        self._bridge.call(
            lambda s: s.history(cid, end, 500),
            self.on_newer_page,
            lambda _e: self._newer_done(),
            owner=self,
        )

    def on_newer_page(self, page: Sequence[MessageView]) -> None:
        fresh = [m for m in page if m.message_id not in self._ids]
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            for message in fresh:
                self._ids[message.message_id] = self._start + len(self._rows)
                self._rows.append(message)
            self.endInsertRows()
            self.newer_loaded.emit(len(fresh))
        self._newer_done()

    def _newer_done(self) -> None:
        self._fetching_newer = False
        if self._again:
            self._again = False
            self.load_newer()

    # --- updates ---------------------------------------------------------------------

    def row_of(self, message_id: str) -> int | None:
        offset = self._ids.get(message_id)
        return None if offset is None else offset - self._start

    def message(self, row: int) -> MessageView:
        return self._rows[row]

    def update_message(self, message_id: str, **changes: Any) -> None:
        row = self.row_of(message_id)
        if row is None:
            return
        self._rows[row] = dataclasses.replace(self._rows[row], **changes)
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)

    def on_delivery_changed(self, message_id: str, state: str) -> None:
        self.update_message(message_id, state=DeliveryState(state))

    def clear(self) -> None:
        """Drop every loaded message (quick exit, lock)."""
        self.beginResetModel()
        self._rows = []
        self._ids = {}
        self._start = 0
        self.is_open = False
        self.endResetModel()

    # --- text ------------------------------------------------------------------------

    def describe(self, message: MessageView) -> str:
        """What a screen reader says for a message: who, when, what, and its state."""
        when = QDateTime.fromSecsSinceEpoch(int(message.sent_at)).toString("HH:mm")
        who = self.tr("You") if message.outgoing else self.tr("They")
        if message.kind is MessageKind.SUMMARY and message.summary is not None:
            done_word, open_word = self.tr("done"), self.tr("not done")
            ticks = message.tasks_done
            tasks = [
                f"{task} ({done_word if i < len(ticks) and ticks[i] else open_word})"
                for i, task in enumerate(message.summary.tasks)
            ]
            title, points_word = self.tr("Session summary"), self.tr("Key points")
            tasks_word = self.tr("Tasks to practise")
            points = "; ".join(message.summary.key_points)
            body = f"{title}. {points_word}: {points}. {tasks_word}: {'; '.join(tasks)}"
        elif message.kind is MessageKind.REFERRAL:
            body = self.tr("Crisis help: %1").replace("%1", message.text)
        else:
            body = message.text
        text = f"{who}, {when}: {body}"
        if message.outgoing:
            text += ". " + state_text(message.state)[1]
        return text
