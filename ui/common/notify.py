"""Desktop notifications that say only that something arrived.

Invariant: a notification never names the sender, the conversation or any text; its title and
body are fixed strings. Where no system tray exists, the app's window asks for attention instead.

Signal: `notified()` after a notification was shown (for tests).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

__all__ = ["Notifier", "app_icon"]


def app_icon() -> QIcon:
    """A plain round icon drawn at run time (no file, nothing identifying)."""
    pixmap = QPixmap(64, 64)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor("#2C6A6E"))
    painter.setPen(QColor("#2C6A6E"))
    painter.drawEllipse(4, 4, 56, 56)
    painter.setBrush(QColor("#FFFFFF"))
    painter.drawRoundedRect(18, 22, 28, 18, 6, 6)
    painter.end()
    return QIcon(pixmap)


class Notifier(QObject):
    notified = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tray: QSystemTrayIcon | None = None
        self.last_title = ""
        self.last_body = ""
        if QSystemTrayIcon.isSystemTrayAvailable():
            self._tray = QSystemTrayIcon(app_icon(), self)
            self._tray.setToolTip("SecureChat")

    def notify_new_message(self, window: QWidget | None) -> None:
        """Tell the user that a message arrived; nothing more."""
        self.last_title = self.tr("SecureChat")
        self.last_body = self.tr("You have a new message.")
        if self._tray is not None:
            self._tray.show()
            self._tray.showMessage(
                self.last_title, self.last_body, QSystemTrayIcon.MessageIcon.NoIcon, 5000
            )
        elif window is not None:
            QApplication.alert(window)
        self.notified.emit()

    def hide(self) -> None:
        if self._tray is not None:
            self._tray.hide()
