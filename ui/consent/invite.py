"""Open a counselor's invite: paste a `securechat:` link, or choose from the directory.

Job: ask the service to `open_invite` (nothing is sent by opening one) or to list the
`directory` of a relay, filtered here by specialization and language.

Signals:
- `invite_opened(invite_id: str)`: `last_invite` holds the `InviteView` to show for consent.

Invariants: directory entries and errors are plain text; an invalid link shows a mapped error
and never echoes the link.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from securechat.api import DirectoryEntry, InviteView
from ui.bridge import Bridge
from ui.common.forms import busy_bar, label, primary_button
from ui.errors import message_for
from ui.i18n import language_name

__all__ = ["InvitePage"]


class InvitePage(QWidget):
    invite_opened = Signal(str)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("invitePage")
        self._bridge = bridge
        self.relay_url = ""
        self.last_invite: InviteView | None = None
        self._entries: list[DirectoryEntry] = []
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
        filters = QHBoxLayout()
        self.spec_filter = QComboBox()
        self.spec_filter.setObjectName("specializationFilter")
        self.lang_filter = QComboBox()
        self.lang_filter.setObjectName("languageFilter")
        self.load_button = QPushButton()
        self.load_button.setObjectName("loadDirectoryButton")
        filters.addWidget(self.spec_filter, 1)
        filters.addWidget(self.lang_filter, 1)
        filters.addWidget(self.load_button)
        self.directory_list = QListWidget()
        self.directory_list.setObjectName("directoryList")
        self.directory_list.setSpacing(6)
        self.choose_button = QPushButton()
        self.choose_button.setObjectName("chooseCounselorButton")
        self.choose_button.setEnabled(False)
        dir_layout.addWidget(self.dir_title)
        dir_layout.addLayout(filters)
        dir_layout.addWidget(self.directory_list, 1)
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
        self.directory_list.currentRowChanged.connect(
            lambda row: self.choose_button.setEnabled(row >= 0)
        )
        self.directory_list.itemActivated.connect(lambda _i: self.on_choose_clicked())
        self.choose_button.clicked.connect(self.on_choose_clicked)
        self.retranslate_ui()

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
        self.error.hide()
        self.busy.show()
        self._bridge.call(
            lambda s: s.directory(relay), self.on_directory_loaded, self.on_failed, owner=self
        )

    def on_directory_loaded(self, entries: Sequence[DirectoryEntry]) -> None:
        self.busy.hide()
        self._entries = list(entries)
        specs = sorted({s for e in self._entries for s in e.specializations})
        langs = sorted({lang for e in self._entries for lang in e.languages})
        for box, values, names in (
            (self.spec_filter, specs, {s: s for s in specs}),
            (self.lang_filter, langs, {lang: language_name(lang) for lang in langs}),
        ):
            box.blockSignals(True)
            while box.count() > 1:
                box.removeItem(1)
            for value in values:
                box.addItem(names[value], value)
            box.blockSignals(False)
        self.directory_list.clear()
        for i, entry in enumerate(self._entries):
            langs_text = ", ".join(language_name(x) for x in entry.languages)
            item = QListWidgetItem(
                f"{entry.counselor_name}\n{', '.join(entry.specializations)}  ·  {langs_text}"
            )
            item.setData(Qt.ItemDataRole.UserRole, i)
            self.directory_list.addItem(item)
        self.apply_filters()

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

    def visible_counselors(self) -> list[str]:
        return [
            self._entries[
                int(self.directory_list.item(r).data(Qt.ItemDataRole.UserRole))
            ].counselor_name
            for r in range(self.directory_list.count())
            if not self.directory_list.item(r).isHidden()
        ]

    def on_choose_clicked(self) -> None:
        item = self.directory_list.currentItem()
        if item is None or item.isHidden():
            return
        self.open_invite(self._entries[int(item.data(Qt.ItemDataRole.UserRole))].invite)

    def clear_sensitive(self) -> None:
        self.link_edit.clear()
        self.directory_list.clear()
        self._entries = []
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

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)
