"""The pinned Qt binding itself: it must not corrupt the interpreter the app runs in."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QLabel


def test_void_calls_keep_none_alive(qapp: QApplication) -> None:
    """Calling void Qt methods many times leaves None's reference count where it was.

    PySide6 6.12.0 dropped one reference to None per call on Python 3.11, so a long-running
    app crashed with "deallocating None" (the app and its bench hit it within seconds).
    """
    widget = QLabel()
    calls = 1_000
    before = sys.getrefcount(None)
    for _ in range(calls):
        qapp.processEvents()
        widget.setText("x")
        widget.update()
    after = sys.getrefcount(None)
    assert after - before > -calls // 10, "the binding leaks references to None"
