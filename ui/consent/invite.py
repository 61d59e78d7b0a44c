"""Open a counselor's invite: paste a `securechat:` link, or choose from the directory.

Job: ask the service to `open_invite` (nothing is sent by opening one) or to list the
`directory` of a relay, filtered here by specialization and language.

The directory's list wraps long entries (no sideways scrolling, even at the narrow width of
two windows side by side). In place of the list, a plain sentence says what is going on when
there is nothing to choose: not loaded yet, loading, nobody listed, nobody matching the
filters, or the relay out of reach, each with what the person can do instead. "Read this
counselor's disclosure" is enabled only while a visible entry is selected.

Signals:
- `invite_opened(invite_id: str)`: `last_invite` holds the `InviteView` to show for consent.

Invariants: directory entries and errors are plain text (entries come from strangers on the
relay: control and direction characters are dropped, every field is shortened to a bounded
length, and nothing of theirs goes into a tooltip); an invalid link shows a mapped error and
never echoes the link.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from enum import Enum

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from securechat.api import DirectoryEntry, InviteView
from ui.bridge import Bridge
from ui.common.flow import FlowLayout
from ui.common.forms import busy_bar, label, primary_button
from ui.common.style import COLORS
from ui.errors import message_for
from ui.i18n import language_name

__all__ = ["DirectoryState", "InvitePage", "clean_text"]

# the longest a counselor's name, or one topic, is shown (they come from strangers)
NAME_LIMIT = 120
TOPIC_LIMIT = 80
# a run of characters with no space gets a break opportunity this often, so it can wrap
_BREAK_EVERY = 24
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}
# errors that mean the relay could not be reached (the sentence says so, and what to do)
_UNREACHABLE = ("RelayUnavailable", "TimeoutError", "ConnectionError", "OSError")
# the directory takes no invite: an "invalid invite" from it means the relay address in
# Settings is missing or unusable, which the person can fix there
_BAD_RELAY = ("InvalidInvite",)


def clean_text(text: str, limit: int) -> str:
    """A stranger's text made safe to lay out on one line: control and direction characters
    dropped, white space collapsed, at most `limit` characters (then "…"), and a break
    opportunity (a zero-width space) inside every long run without a space, so it wraps."""
    kept = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch
        for ch in text
        if ch not in _BIDI and ch != "\u200b"
    )
    out = " ".join(kept.split())
    if len(out) > limit:
        out = out[: limit - 1].rstrip() + "…"
    words = []
    for word in out.split(" "):
        parts = [word[i : i + _BREAK_EVERY] for i in range(0, len(word), _BREAK_EVERY)]
        words.append("\u200b".join(parts))
    return " ".join(words)


_Index = QModelIndex | QPersistentModelIndex
_PAD = 10
_FLAGS = int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft)


class DirectoryDelegate(QStyledItemDelegate):
    """Draws an entry as a card as wide as the list: the name in bold, then its topics and
    languages, both wrapped to the width (plain `drawText`: markup shows as it is)."""

    def __init__(self, view: QListWidget) -> None:
        super().__init__(view)
        self._view = view

    def _width(self) -> int:
        return max(120, self._view.viewport().width())

    @staticmethod
    def _bold(font: QFont) -> QFont:
        bold = QFont(font)
        bold.setBold(True)
        return bold

    def _rects(self, font: QFont, width: int, text: str) -> tuple[QRect, QRect]:
        name, _, details = text.partition("\n")
        room = QRect(0, 0, width - 2 * _PAD, 1_000_000)
        head = QFontMetrics(self._bold(font)).boundingRect(room, _FLAGS, name)
        head = QRect(_PAD, _PAD, room.width(), head.height())
        body = QRect(_PAD, head.bottom() + 1, room.width(), 0)
        if details:
            size = QFontMetrics(font).boundingRect(room, _FLAGS, details)
            body = QRect(_PAD, head.bottom() + 5, room.width(), size.height())
        return head, body

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        width = self._width()
        _head, body = self._rects(option.font, width, str(index.data() or ""))
        return QSize(width, body.bottom() + 1 + _PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        rect: QRect = option.rect
        text = str(index.data() or "")
        name, _, details = text.partition("\n")
        head, body = self._rects(option.font, rect.width(), text)
        head.translate(rect.left(), rect.top())
        body.translate(rect.left(), rect.top())
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = rect.adjusted(1, 1, -1, -1)
        if selected:
            painter.setBrush(QColor(COLORS["accent_soft"]))
            painter.setPen(QPen(QColor(COLORS["accent"]), 2))
            painter.drawRoundedRect(card, 6, 6)
        else:
            painter.setPen(QColor(COLORS["border"]))
            painter.drawLine(card.bottomLeft(), card.bottomRight())
        painter.setPen(QColor(COLORS["text"]))
        painter.setFont(self._bold(option.font))
        painter.drawText(head, _FLAGS, name)
        if details:
            painter.setPen(QColor(COLORS["muted"]))
            painter.setFont(option.font)
            painter.drawText(body, _FLAGS, details)
        painter.restore()


class DirectoryState(Enum):
    """What the directory area shows instead of (or with) the list."""

    NOT_LOADED = "not_loaded"
    LOADING = "loading"
    LISTED = "listed"  # the list, with at least one visible entry
    EMPTY = "empty"  # the relay lists nobody
    NO_MATCH = "no_match"  # entries, but the filters hide them all
    FAILED = "failed"


class InvitePage(QWidget):
    invite_opened = Signal(str)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("invitePage")
        self._bridge = bridge
        self.relay_url = ""
        self.last_invite: InviteView | None = None
        self._entries: list[DirectoryEntry] = []
        self.directory_state = DirectoryState.NOT_LOADED
        self._load_seq = 0  # answers to an older load (or from before a lock) are dropped
        self._directory_error: BaseException | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(12)
        self.title = label("title")
        self.intro = label("muted")
        layout.addWidget(self.title)
        layout.addWidget(self.intro)

        link_card = QFrame()
        link_card.setProperty("role", "card")
        link_layout = QVBoxLayout(link_card)
        link_layout.setContentsMargins(16, 12, 16, 12)
        self.link_title = label("subtitle")
        row = QHBoxLayout()
        self.link_edit = QLineEdit()
        self.link_edit.setObjectName("inviteInput")
        self.open_button = primary_button("openInviteButton")
        row.addWidget(self.link_edit, 1)
        row.addWidget(self.open_button)
        link_layout.addWidget(self.link_title)
        link_layout.addLayout(row)
        layout.addWidget(link_card)

        dir_card = QFrame()
        dir_card.setProperty("role", "card")
        dir_layout = QVBoxLayout(dir_card)
        dir_layout.setContentsMargins(16, 12, 16, 12)
        self.dir_title = label("subtitle")
        # the filters and the button wrap onto more rows when narrow; a long topic from the
        # relay is cut short in the box (whole in its list) instead of widening the window
        filters = QWidget()
        filters.setObjectName("directoryFilters")
        filters_layout = FlowLayout(filters)
        self.spec_filter = QComboBox()
        self.spec_filter.setObjectName("specializationFilter")
        self.lang_filter = QComboBox()
        self.lang_filter.setObjectName("languageFilter")
        for box in (self.spec_filter, self.lang_filter):
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            box.setMinimumContentsLength(14)
        self.load_button = QPushButton()
        self.load_button.setObjectName("loadDirectoryButton")
        filters_layout.addWidget(self.spec_filter)
        filters_layout.addWidget(self.lang_filter)
        filters_layout.addWidget(self.load_button)
        self.directory_list = QListWidget()
        self.directory_list.setObjectName("directoryList")
        # long entries wrap to the list's width, which follows the window: no sideways scrolling
        self.directory_list.setItemDelegate(DirectoryDelegate(self.directory_list))
        self.directory_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.directory_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.directory_list.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.directory_state_text = label("muted", "directoryState")
        self.directory_state_text.setAlignment(
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        )
        self.directory_state_text.setContentsMargins(12, 24, 12, 12)
        self.directory_area = QStackedWidget()
        self.directory_area.setObjectName("directoryArea")
        self.directory_area.addWidget(self.directory_state_text)
        self.directory_area.addWidget(self.directory_list)
        self.choose_button = QPushButton()
        self.choose_button.setObjectName("chooseCounselorButton")
        self.choose_button.setEnabled(False)
        dir_layout.addWidget(self.dir_title)
        dir_layout.addWidget(filters)
        dir_layout.addWidget(self.directory_area, 1)
        dir_layout.addWidget(self.choose_button, 0, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(dir_card, 1)

        self.error = label("error", "inviteError")
        self.error.hide()
        self.busy = busy_bar("inviteBusy")
        layout.addWidget(self.error)
        layout.addWidget(self.busy)

        self.open_button.clicked.connect(self.on_open_clicked)
        self.link_edit.returnPressed.connect(self.on_open_clicked)
        self.load_button.clicked.connect(self.load_directory)
        self.spec_filter.currentIndexChanged.connect(self.apply_filters)
        self.lang_filter.currentIndexChanged.connect(self.apply_filters)
        self.directory_list.currentRowChanged.connect(lambda _row: self.update_choose_button())
        self.directory_list.itemSelectionChanged.connect(self.update_choose_button)
        self.directory_list.itemActivated.connect(lambda _i: self.on_choose_clicked())
        self.choose_button.clicked.connect(self.on_choose_clicked)
        self.retranslate_ui()
        self._show_state(DirectoryState.NOT_LOADED)

    # --- invite link -----------------------------------------------------------------

    def on_open_clicked(self) -> None:
        self.open_invite(self.link_edit.text().strip())

    def open_invite(self, link: str) -> None:
        if not link:
            return
        self.error.hide()
        self.busy.show()
        self._bridge.call(
            lambda s: s.open_invite(link), self.on_invite_loaded, self.on_failed, owner=self
        )

    def on_invite_loaded(self, view: InviteView) -> None:
        self.busy.hide()
        self.last_invite = view
        self.link_edit.clear()
        self.invite_opened.emit(view.invite_id)

    def on_failed(self, error: BaseException) -> None:
        self.busy.hide()
        self.error.setText(message_for(error))
        self.error.show()

    # --- directory -------------------------------------------------------------------

    def load_directory(self) -> None:
        relay = self.relay_url
        self._load_seq += 1
        seq = self._load_seq
        self.error.hide()
        self.busy.show()
        self.load_button.setEnabled(False)
        self._set_entries([])
        self._show_state(DirectoryState.LOADING)
        self._bridge.call(
            lambda s: s.directory(relay),
            lambda entries: self.on_directory_loaded(entries, seq),
            lambda error: self.on_directory_failed(error, seq),
            owner=self,
        )

    def on_directory_loaded(self, entries: Sequence[DirectoryEntry], seq: int = 0) -> None:
        if seq and seq != self._load_seq:
            return
        self.busy.hide()
        self.load_button.setEnabled(True)
        self._set_entries(entries)
        self.apply_filters()

    def on_directory_failed(self, error: BaseException, seq: int = 0) -> None:
        if seq and seq != self._load_seq:
            return
        self.busy.hide()
        self.load_button.setEnabled(True)
        self._directory_error = error
        self._show_state(DirectoryState.FAILED)

    def _set_entries(self, entries: Sequence[DirectoryEntry]) -> None:
        self._entries = list(entries)
        specs = sorted({s for e in self._entries for s in e.specializations}, key=str.casefold)
        langs = sorted({lang for e in self._entries for lang in e.languages})
        for box, values, names in (
            (self.spec_filter, specs, {s: clean_text(s, TOPIC_LIMIT) for s in specs}),
            (
                self.lang_filter,
                langs,
                {x: clean_text(language_name(x), TOPIC_LIMIT) for x in langs},
            ),
        ):
            box.blockSignals(True)
            chosen = box.currentData()
            while box.count() > 1:
                box.removeItem(1)
            for value in values:
                box.addItem(names[value], value)
            box.setCurrentIndex(max(0, box.findData(chosen)))
            box.blockSignals(False)
        self.directory_list.clear()
        for i, entry in enumerate(self._entries):
            item = QListWidgetItem(self.entry_text(entry))
            item.setData(Qt.ItemDataRole.UserRole, i)
            self.directory_list.addItem(item)
        self.update_choose_button()

    @staticmethod
    def entry_text(entry: DirectoryEntry) -> str:
        """Name on the first line; topics and languages (wrapping as needed) below it."""
        name = clean_text(entry.counselor_name, NAME_LIMIT)
        topics = ", ".join(clean_text(s, TOPIC_LIMIT) for s in entry.specializations[:12])
        langs = ", ".join(clean_text(language_name(x), TOPIC_LIMIT) for x in entry.languages[:12])
        details = "  ·  ".join(part for part in (topics, langs) if part)
        return f"{name}\n{details}" if details else name

    def apply_filters(self) -> None:
        spec = self.spec_filter.currentData()
        lang = self.lang_filter.currentData()
        for row in range(self.directory_list.count()):
            item = self.directory_list.item(row)
            entry = self._entries[int(item.data(Qt.ItemDataRole.UserRole))]
            visible = (not spec or spec in entry.specializations) and (
                not lang or lang in entry.languages
            )
            item.setHidden(not visible)
            if not visible and item.isSelected():
                item.setSelected(False)
        current = self.directory_list.currentItem()
        if current is not None and current.isHidden():
            self.directory_list.setCurrentRow(-1)
        if not self._entries:
            if self.directory_state is DirectoryState.LOADING:  # loaded, and nobody is listed
                self._show_state(DirectoryState.EMPTY)
        elif not self.visible_counselors():
            self._show_state(DirectoryState.NO_MATCH)
        else:
            self._show_state(DirectoryState.LISTED)
        self.update_choose_button()

    def update_choose_button(self) -> None:
        """Enabled only while a visible entry is selected."""
        self.choose_button.setEnabled(self._chosen_item() is not None)

    def _chosen_item(self) -> QListWidgetItem | None:
        if self.directory_state is not DirectoryState.LISTED:
            return None
        item = self.directory_list.currentItem()
        if item is None or item.isHidden() or not item.isSelected():
            return None
        return item

    def _show_state(self, state: DirectoryState) -> None:
        self.directory_state = state
        if state is not DirectoryState.FAILED:
            self._directory_error = None
        self.directory_state_text.setText(self.state_text(state))
        listed = state is DirectoryState.LISTED
        self.directory_area.setCurrentWidget(
            self.directory_list if listed else self.directory_state_text
        )
        for box in (self.spec_filter, self.lang_filter):
            box.setEnabled(bool(self._entries))
        self.update_choose_button()

    def state_text(self, state: DirectoryState) -> str:
        """The sentence shown in place of the list (empty while the list is shown)."""
        if state is DirectoryState.NOT_LOADED:
            return self.tr(
                'Choose "Show counselors" to see who has listed themselves on this relay.'
            )
        if state is DirectoryState.LOADING:
            return self.tr("Looking for counselors on this relay…")
        if state is DirectoryState.EMPTY:
            return self.tr(
                "No counselors have listed themselves on this relay yet. That is common: many "
                "counselors share their invite link only directly. If your school, campus or "
                "organisation offers counseling, ask them for an invite link and paste it above."
            )
        if state is DirectoryState.NO_MATCH:
            return self.tr(
                'No counselor listed here matches these filters. Try "Any topic" or '
                '"Any language" to see everyone listed, or paste an invite link above if you '
                "have one."
            )
        if state is DirectoryState.FAILED:
            error = self._directory_error
            if error is not None and any(k.__name__ in _UNREACHABLE for k in type(error).__mro__):
                return self.tr(
                    "The list of counselors could not be loaded: the server cannot be reached "
                    'right now. Please check your connection and choose "Show counselors" to '
                    "try again."
                )
            if error is not None and any(k.__name__ in _BAD_RELAY for k in type(error).__mro__):
                return self.tr(
                    "To see the list of counselors, enter your organisation's relay address in "
                    'Settings first (it starts with wss://), then choose "Show counselors".'
                )
            return (
                message_for(error)
                if error is not None
                else self.tr("The list of counselors could not be loaded.")
            )
        return ""

    def visible_counselors(self) -> list[str]:
        return [
            self._entries[
                int(self.directory_list.item(r).data(Qt.ItemDataRole.UserRole))
            ].counselor_name
            for r in range(self.directory_list.count())
            if not self.directory_list.item(r).isHidden()
        ]

    def on_choose_clicked(self) -> None:
        item = self._chosen_item()
        if item is None:
            return
        self.open_invite(self._entries[int(item.data(Qt.ItemDataRole.UserRole))].invite)

    def clear_sensitive(self) -> None:
        self._load_seq += 1  # a load still under way is dropped when it answers
        self.link_edit.clear()
        self._set_entries([])
        self.busy.hide()
        self.load_button.setEnabled(True)
        self._show_state(DirectoryState.NOT_LOADED)
        self.last_invite = None

    # --- texts -----------------------------------------------------------------------

    def retranslate_ui(self) -> None:
        self.title.setText(self.tr("Find a counselor"))
        self.intro.setText(
            self.tr(
                "Opening an invite sends nothing. You will first read how the counselor "
                "works, and only you decide whether to start."
            )
        )
        self.link_title.setText(self.tr("I have an invite link"))
        self.link_edit.setPlaceholderText(self.tr("Paste the securechat: link here"))
        self.link_edit.setAccessibleName(self.tr("Invite link"))
        self.open_button.setText(self.tr("Open"))
        self.dir_title.setText(self.tr("Or choose from the directory"))
        self.load_button.setText(self.tr("Show counselors"))
        self.choose_button.setText(self.tr("Read this counselor's disclosure"))
        self.directory_list.setAccessibleName(self.tr("Counselors"))
        for box, text in (
            (self.spec_filter, self.tr("Any topic")),
            (self.lang_filter, self.tr("Any language")),
        ):
            if box.count() == 0:
                box.addItem(text, "")
            else:
                box.setItemText(0, text)
        self.spec_filter.setAccessibleName(self.tr("Filter by topic"))
        self.lang_filter.setAccessibleName(self.tr("Filter by language"))
        self.directory_state_text.setText(self.state_text(self.directory_state))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)
