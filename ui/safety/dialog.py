"""The safety number dialog: compare 60 digits (12 groups of 5) or scan the QR code.

Invariants: the digits are never logged; the QR image is rendered locally with segno; "Mark as
verified" calls the service through the bridge and nothing else.

Signal: `verified(conversation_id: str)` after the service confirmed `mark_verified`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from securechat.api import SafetyNumberView
from ui.bridge import Bridge
from ui.common.forms import busy_bar, label, primary_button
from ui.errors import message_for

__all__ = ["SafetyNumberDialog", "group_digits", "qr_pixmap"]


def group_digits(digits: str) -> list[str]:
    """Split the 60 digits into 12 groups of 5."""
    return [digits[i : i + 5] for i in range(0, len(digits), 5)]


def qr_pixmap(payload: bytes, scale: int = 5) -> QPixmap:
    """Render the QR code for `payload` as a pixmap (PNG in memory, via segno)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=scale, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


class SafetyNumberDialog(QDialog):
    verified = Signal(str)

    def __init__(
        self, bridge: Bridge, conversation_id: str, peer_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("safetyNumberDialog")
        self._bridge = bridge
        self.conversation_id = conversation_id
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        self.title = label("title")
        self.intro = label("muted")
        layout.addWidget(self.title)
        layout.addWidget(self.intro)
        row = QHBoxLayout()
        self.digits = label(object_name="safetyDigits", wrap=False)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSize(15)
        mono.setWeight(QFont.Weight.DemiBold)
        self.digits.setFont(mono)
        self.qr = QLabel()
        self.qr.setObjectName("safetyQr")
        self.qr.setMinimumSize(180, 180)
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row.addWidget(self.digits, 1)
        row.addWidget(self.qr)
        layout.addLayout(row)
        self.state = label("muted", "safetyState")
        self.error = label("error")
        self.error.hide()
        self.busy = busy_bar("safetyBusy")
        self.busy.show()
        layout.addWidget(self.state)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        buttons = QDialogButtonBox()
        self.verify_button = primary_button("markVerifiedButton")
        self.verify_button.setEnabled(False)
        self.close_button = QPushButton()
        buttons.addButton(self.verify_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.rejected.connect(self.reject)
        self.verify_button.clicked.connect(self.on_verify_clicked)
        layout.addWidget(buttons)
        self._peer = peer_name
        self._view: SafetyNumberView | None = None
        self.retranslate_ui()
        bridge.call(
            lambda s: s.safety_number(conversation_id), self.on_loaded, self.on_failed, owner=self
        )

    def on_loaded(self, view: SafetyNumberView) -> None:
        self._view = view
        self.busy.hide()
        groups = group_digits(view.digits)
        rows = ["   ".join(groups[i : i + 4]) for i in range(0, len(groups), 4)]
        self.digits.setText("\n".join(rows))
        self.digits.setAccessibleName(self.tr("Safety number: %1").replace("%1", " ".join(groups)))
        self.qr.setPixmap(qr_pixmap(view.qr_payload))
        self.verify_button.setEnabled(not view.verified)
        self.retranslate_ui()

    def on_failed(self, error: BaseException) -> None:
        self.busy.hide()
        self.error.setText(message_for(error))
        self.error.show()

    def on_verify_clicked(self) -> None:
        cid = self.conversation_id
        self.verify_button.setEnabled(False)
        self._bridge.call(
            lambda s: s.mark_verified(cid), self.on_verified, self.on_failed, owner=self
        )

    def on_verified(self, _result: object) -> None:
        if self._view is not None:
            self._view = SafetyNumberView(self._view.digits, self._view.qr_payload, True)
        self.retranslate_ui()
        self.verified.emit(self.conversation_id)

    def changeEvent(self, event: QEvent) -> None:
        # not modal, so the language can be switched while it is open
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def retranslate_ui(self) -> None:
        self.setWindowTitle(self.tr("Safety number"))
        self.title.setText(self.tr("Safety number with %1").replace("%1", self._peer))
        self.intro.setText(
            self.tr(
                "Compare these numbers with the other person, in person or on a call, or scan "
                "the code. If they match, nobody is in the middle of your conversation."
            )
        )
        if self._view is not None:
            self.state.setText(
                self.tr("✓ You marked this safety number as verified.")
                if self._view.verified
                else self.tr("Not verified yet.")
            )
        self.verify_button.setText(self.tr("Mark as verified"))
        self.close_button.setText(self.tr("Close"))
