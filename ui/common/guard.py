"""Quick exit keys and the inactivity timer, watched application-wide.

Job: an event filter on the `QApplication` that (a) restarts the auto-lock timer on any key,
mouse or wheel input, and (b) recognises the quick-exit keys: Ctrl+Shift+Q, or Esc pressed
twice within `ESC_WINDOW_MS`.

Signals:
- `idle_timed_out()`: no input for the configured time (auto-lock).
- `quick_exit_pressed()`: the quick-exit keys were pressed.
- `help_pressed()`: F1, the crisis panel's key, was pressed in any window.

Invariant: the filter never consumes ordinary input; it only observes (it consumes the
quick-exit chord itself so no widget acts on it).
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

__all__ = ["ESC_WINDOW_MS", "ActivityGuard"]

ESC_WINDOW_MS = 800

_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}


def _first_receiver(watched: QObject) -> bool:
    """A key event propagates from the focus widget to its parents and passes this filter
    each time; count it once, at the widget that receives it first."""
    if not isinstance(watched, QWidget):
        return False
    focus = QApplication.focusWidget()
    if focus is None:
        return watched.isWindow()
    return watched is focus


class ActivityGuard(QObject):
    idle_timed_out = Signal()
    quick_exit_pressed = Signal()
    help_pressed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle_timed_out)
        self._esc = QElapsedTimer()
        self._armed = False

    def set_timeout_ms(self, milliseconds: int) -> None:
        """0 switches auto-lock off."""
        self._timer.stop()
        self._timer.setInterval(max(0, milliseconds))
        if milliseconds > 0 and self._armed:
            self._timer.start()

    def set_timeout_minutes(self, minutes: int) -> None:
        self.set_timeout_ms(minutes * 60_000)

    def arm(self, armed: bool) -> None:
        """Auto-lock counts only while a profile is unlocked."""
        self._armed = armed
        if armed and self._timer.interval() > 0:
            self._timer.start()
        else:
            self._timer.stop()

    @property
    def armed(self) -> bool:
        return self._armed

    def poke(self) -> None:
        """Count as activity (restart the timer)."""
        if self._armed and self._timer.interval() > 0:
            self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _ACTIVITY:
            self.poke()
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.isAutoRepeat() or not _first_receiver(watched):
                return False
            mods = event.modifiers()
            chord = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
            if event.key() == Qt.Key.Key_Q and (mods & chord) == chord:
                self.quick_exit_pressed.emit()
                return True
            if event.key() == Qt.Key.Key_F1:
                self.help_pressed.emit()
                return True
            if event.key() == Qt.Key.Key_Escape:
                if self._esc.isValid() and self._esc.elapsed() <= ESC_WINDOW_MS:
                    self._esc.invalidate()
                    self.quick_exit_pressed.emit()
                    return True
                self._esc.start()
        return False
