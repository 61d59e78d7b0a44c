"""Draws a message as a bubble: plain text, time, and the delivery state in words and a mark.

Invariants:
- Text is drawn with `QPainter.drawText`, which never interprets markup: peer text containing
  `<b>` or `<img src=...>` appears literally.
- A delivery state is shown as a mark and a word ("✓✓ Delivered"), never by colour alone.
- Size hints are cached per (message id, width, ticks) so scrolling does no repeated layout.
"""

from __future__ import annotations

from PySide6.QtCore import QDateTime, QLocale, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from securechat.api import DeliveryState, MessageKind, MessageView
from ui.chat.model import MESSAGE_ROLE, state_text
from ui.common.style import COLORS

__all__ = ["MessageDelegate"]

_Index = QModelIndex | QPersistentModelIndex
_PAD = 12
_GAP = 6
_MARGIN = 16
_FLAGS = int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft)


class MessageDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cache: dict[tuple[str, int, tuple[bool, ...], str], QSize] = {}

    # --- text --------------------------------------------------------------------------

    def heading(self, message: MessageView) -> str:
        """A bold first line for summaries and referrals; empty for plain messages."""
        if message.kind is MessageKind.SUMMARY and message.summary is not None:
            return self.tr("Session summary")
        if message.kind is MessageKind.REFERRAL:
            return self.tr("Help right now")
        return ""

    def body(self, message: MessageView) -> str:
        """The message as one plain string (below its heading, if any)."""
        if message.kind is MessageKind.SUMMARY and message.summary is not None:
            lines = [self.tr("Key points")]
            lines += [f"•  {point}" for point in message.summary.key_points]
            lines += ["", self.tr("Tasks to practise")]
            for i, task in enumerate(message.summary.tasks):
                done = i < len(message.tasks_done) and message.tasks_done[i]
                lines.append(f"{'☑' if done else '☐'}  {task}")
            if not message.outgoing:
                lines += ["", self.tr("Double-click or press Enter to tick tasks off.")]
            return "\n".join(lines)
        return message.text

    def footer(self, message: MessageView) -> str:
        stamp = QDateTime.fromSecsSinceEpoch(int(message.sent_at))
        when = QLocale().toString(stamp, "d MMM, HH:mm")  # month names in the app's language
        if not message.outgoing:
            return when
        mark, words = state_text(message.state)
        return f"{when}   {mark} {words}"

    # --- geometry ------------------------------------------------------------------------

    def _bubble_width(self, option_width: int) -> int:
        return max(160, int((option_width - 2 * _MARGIN) * 0.72))

    def _layout(
        self, message: MessageView, width: int, font: QFont
    ) -> tuple[QRect, QRect, QRect, int, QRect]:
        """Bubble, body, footer rectangles (relative to the row's top), row height, heading."""
        metrics = QFontMetrics(font)
        bold = QFont(font)
        bold.setBold(True)
        bold_metrics = QFontMetrics(bold)
        heading = self.heading(message)
        small = QFont(font)
        small.setPointSizeF(max(8.0, font.pointSizeF() - 1.5))
        small_metrics = QFontMetrics(small)
        max_text = self._bubble_width(width) - 2 * _PAD
        body = metrics.boundingRect(QRect(0, 0, max_text, 1_000_000), _FLAGS, self.body(message))
        foot = small_metrics.boundingRect(self.footer(message))
        head_w = bold_metrics.horizontalAdvance(heading) if heading else 0
        head_h = bold_metrics.height() + _GAP if heading else 0
        text_w = min(max(body.width(), foot.width(), head_w), max_text)
        bubble_w = text_w + 2 * _PAD
        bubble_h = head_h + body.height() + _GAP + small_metrics.height() + 2 * _PAD
        if message.kind is MessageKind.SYSTEM:
            x = (width - bubble_w) // 2
        elif message.outgoing:
            x = width - _MARGIN - bubble_w
        else:
            x = _MARGIN
        bubble = QRect(x, _GAP, bubble_w, bubble_h)
        head_rect = QRect(x + _PAD, _GAP + _PAD, text_w, bold_metrics.height())
        body_rect = QRect(x + _PAD, _GAP + _PAD + head_h, text_w, body.height())
        foot_rect = QRect(x + _PAD, body_rect.bottom() + 1 + _GAP, text_w, small_metrics.height())
        return bubble, body_rect, foot_rect, bubble_h + 2 * _GAP, head_rect

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        message = index.data(MESSAGE_ROLE)
        if not isinstance(message, MessageView):
            return QSize(0, 0)
        width = option.rect.width() or 600
        key = (message.message_id, width, message.tasks_done, str(message.state))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if len(self._cache) > 20_000:
            self._cache.clear()
        font = option.font
        height = self._layout(message, width, font)[3]
        size = QSize(width, height)
        self._cache[key] = size
        return size

    # --- painting ------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        message = index.data(MESSAGE_ROLE)
        if not isinstance(message, MessageView):
            return
        rect: QRect = option.rect
        font: QFont = option.font
        bubble, body, foot, _height, head = self._layout(message, rect.width(), font)
        head.translate(rect.left(), rect.top())
        bubble.translate(rect.left(), rect.top())
        body.translate(rect.left(), rect.top())
        foot.translate(rect.left(), rect.top())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if message.kind is MessageKind.REFERRAL:
            fill, border = QColor(COLORS["help_bg"]), QColor("#E4B9A0")
        elif message.kind is MessageKind.SYSTEM:
            fill, border = QColor(COLORS["window"]), QColor(COLORS["border"])
        elif message.outgoing:
            fill, border = QColor(COLORS["outgoing"]), QColor("#C5DCD9")
        else:
            fill, border = QColor(COLORS["incoming"]), QColor(COLORS["border"])
        painter.setBrush(fill)
        state = option.state
        focused = bool(state & QStyle.StateFlag.State_HasFocus) or bool(
            state & QStyle.StateFlag.State_Selected
        )
        painter.setPen(QPen(QColor(COLORS["accent"]) if focused else border, 2 if focused else 1))
        painter.drawRoundedRect(bubble, 10, 10)
        painter.setPen(QColor(COLORS["text"]))
        heading = self.heading(message)
        if heading:
            bold = QFont(font)
            bold.setBold(True)
            painter.setFont(bold)
            painter.drawText(head, int(Qt.AlignmentFlag.AlignLeft), heading)
        painter.setFont(font)
        painter.drawText(body, _FLAGS, self.body(message))
        small = QFont(font)
        small.setPointSizeF(max(8.0, font.pointSizeF() - 1.5))
        painter.setFont(small)
        failed = message.outgoing and message.state is DeliveryState.FAILED
        painter.setPen(QColor(COLORS["failed"] if failed else COLORS["muted"]))
        align = Qt.AlignmentFlag.AlignRight if message.outgoing else Qt.AlignmentFlag.AlignLeft
        painter.drawText(foot, int(align), self.footer(message))
        painter.restore()

    def clear_cache(self) -> None:
        self._cache.clear()
