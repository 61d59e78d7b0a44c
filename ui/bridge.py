"""The bridge between the Qt GUI thread and the client core's asyncio loop.

Job: run the service (any `securechat.api.ServiceAPI`) on its own asyncio loop in one worker
thread; send it commands with `asyncio.run_coroutine_threadsafe`; bring results, errors and the
service's events back to the GUI thread as Qt signals.

Invariants:
- No widget calls the service directly: widgets call `Bridge.call` with a function of the
  service, and a callback that runs later on the GUI thread.
- The worker thread never touches a widget. It only emits this object's signals; because the
  bridge lives in the GUI thread, those are queued connections and every slot runs on the GUI
  thread.
- Signals carry ids and states, never plaintext. A command's result stays in `_results` and is
  handed to its callback on the GUI thread, keyed by a request number.
- A callback whose owner widget was deleted in the meantime is dropped, not called.
- `shutdown()` is idempotent: it cancels the event pump, stops the loop and joins the thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

from securechat.api import (
    ConnectionChanged,
    ConsentRequired,
    ConsentWithdrawn,
    ConversationStarted,
    DeliveryChanged,
    Event,
    MessageReceived,
    ProfileLocked,
    SafetyNumberChanged,
    ServiceAPI,
)

__all__ = ["Bridge", "ServiceFactory"]

log = logging.getLogger(__name__)

T = TypeVar("T")
ServiceFactory = Callable[[], ServiceAPI]
_Callback = Callable[[Any], None]
_ErrorCallback = Callable[[BaseException], None]


class Bridge(QObject):
    """Owns the worker thread and the service; turns core events into Qt signals.

    Signals (all emitted on the GUI thread for their receivers):
    - `connection_changed(state: str)`: a `ConnectionState` value.
    - `conversation_started(conversation_id: str)`
    - `message_received(conversation_id: str, message_id: str)`
    - `delivery_changed(conversation_id: str, message_id: str, state: str)`
    - `safety_number_changed(conversation_id: str)`
    - `consent_required(conversation_id: str, version: int)`
    - `consent_withdrawn(conversation_id: str, by_peer: bool)`
    - `profile_locked(reason: str)`
    - `busy_changed(busy: bool)`: True while at least one command is running.
    """

    connection_changed = Signal(str)
    conversation_started = Signal(str)
    message_received = Signal(str, str)
    delivery_changed = Signal(str, str, str)
    safety_number_changed = Signal(str)
    consent_required = Signal(str, int)
    consent_withdrawn = Signal(str, bool)
    profile_locked = Signal(str)
    busy_changed = Signal(bool)

    # internal: a request finished; the number keys `_results`
    _request_finished = Signal(int)
    # internal: an event arrived; the number keys `_events`
    _event_arrived = Signal(int)

    def __init__(self, factory: ServiceFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._factory = factory
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="securechat-core", daemon=True)
        # the service, built on the worker thread; commands wait for it (see `start`)
        self._service: concurrent.futures.Future[ServiceAPI] | None = None
        self._pump: concurrent.futures.Future[None] | None = None
        self._release: concurrent.futures.Future[None] | None = None
        self._lock = threading.Lock()
        self._next = 0
        self._callbacks: dict[int, tuple[_Callback | None, _ErrorCallback | None, Any]] = {}
        self._results: dict[int, tuple[bool, Any]] = {}
        self._events: dict[int, Event] = {}
        self._started = False
        self._closed = False
        self._request_finished.connect(self.on_request_finished)
        self._event_arrived.connect(self.on_event_arrived)

    # --- life cycle ------------------------------------------------------------------

    def start(self, *, deferred: bool = False) -> None:
        """Start the worker thread, build the service on it and start the event pump.

        Returns at once: the factory (which may import the whole core) runs on the worker
        thread; commands issued meanwhile wait for it. With `deferred`, the factory waits for
        `release()`, so a first window can be shown before the import competes for the GIL.
        """
        if self._started:
            return
        self._started = True
        if deferred:
            self._release = concurrent.futures.Future()
        self._thread.start()

        async def make() -> ServiceAPI:
            if self._release is not None:
                await asyncio.wrap_future(self._release)
            return self._factory()

        self._service = asyncio.run_coroutine_threadsafe(make(), self._loop)
        self._pump = asyncio.run_coroutine_threadsafe(self._pump_events(), self._loop)

    def release(self) -> None:
        """Let a deferred `start` build the service now (idempotent)."""
        if self._release is not None and not self._release.done():
            self._release.set_result(None)

    async def _ready_service(self) -> ServiceAPI:
        """The service, once the factory has built it (raises what the factory raised)."""
        assert self._service is not None  # noqa: S101 (set by start before any command)
        return await asyncio.wrap_future(self._service)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the event pump and the loop, and join the worker thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if not self._started:
            self._loop.close()
            return
        if self._pump is not None:
            self._pump.cancel()

        async def cancel_all() -> None:
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(cancel_all(), self._loop).result(timeout=timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()
        with self._lock:
            self._callbacks.clear()
            self._results.clear()
            self._events.clear()

    @property
    def running(self) -> bool:
        return self._started and not self._closed

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    # --- commands --------------------------------------------------------------------

    def call(
        self,
        command: Callable[[ServiceAPI], Awaitable[T]],
        on_result: Callable[[T], None] | None = None,
        on_error: _ErrorCallback | None = None,
        owner: QObject | None = None,
    ) -> int:
        """Run `command(service)` on the core loop; return a request number.

        After `shutdown()` the command is dropped (returns -1) and no callback runs.

        `on_result(value)` or `on_error(exception)` runs later on the GUI thread, unless
        `owner` was deleted by then. An error without `on_error` is logged generically.
        """
        if self._service is None or self._closed:
            # a late timer after lock/quit: nothing to run it on, and nothing to show
            log.debug("a command arrived after the bridge stopped; dropped")
            return -1
        with self._lock:
            self._next += 1
            number = self._next
            self._callbacks[number] = (on_result, on_error, owner)
            pending = len(self._callbacks)
        if pending == 1:
            self.busy_changed.emit(True)

        async def run() -> None:
            try:
                value: Any = await command(await self._ready_service())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._finish(number, False, exc)
            else:
                self._finish(number, True, value)

        asyncio.run_coroutine_threadsafe(run(), self._loop)
        return number

    def _finish(self, number: int, ok: bool, value: Any) -> None:
        # worker thread: store, then signal; the slot runs on the GUI thread
        with self._lock:
            self._results[number] = (ok, value)
        self._request_finished.emit(number)

    @Slot(int)
    def on_request_finished(self, number: int) -> None:
        with self._lock:
            outcome = self._results.pop(number, None)
            callbacks = self._callbacks.pop(number, None)
            pending = len(self._callbacks)
        if pending == 0:
            self.busy_changed.emit(False)
        if outcome is None or callbacks is None:
            return
        ok, value = outcome
        on_result, on_error, owner = callbacks
        if owner is not None and not shiboken6.isValid(owner):
            return
        if ok:
            if on_result is not None:
                on_result(value)
        elif on_error is not None:
            on_error(value)
        else:
            log.error("a command failed: %s", type(value).__name__)
            log.debug("command failure detail", exc_info=value)

    # --- events ----------------------------------------------------------------------

    async def _pump_events(self) -> None:
        """Forward every core event; if the stream ends or fails, open it again (backoff)."""
        delay = 0.2
        try:
            service = await self._ready_service()
        except Exception as exc:
            log.error("the core could not start: %s", type(exc).__name__)
            return
        while not self._closed:
            try:
                async for event in service.events():
                    delay = 0.2
                    with self._lock:
                        self._next += 1
                        number = self._next
                        self._events[number] = event
                    self._event_arrived.emit(number)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("the event stream stopped: %s", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    @Slot(int)
    def on_event_arrived(self, number: int) -> None:
        with self._lock:
            event = self._events.pop(number, None)
        if event is not None:
            self.dispatch(event)

    def dispatch(self, event: Event) -> None:
        """Emit the signal that matches a core event (GUI thread)."""
        match event:
            case ConnectionChanged(state=state):
                self.connection_changed.emit(str(state))
            case ConversationStarted(conversation_id=cid):
                self.conversation_started.emit(cid)
            case MessageReceived(conversation_id=cid, message_id=mid):
                self.message_received.emit(cid, mid)
            case DeliveryChanged(conversation_id=cid, message_id=mid, state=state):
                self.delivery_changed.emit(cid, mid, str(state))
            case SafetyNumberChanged(conversation_id=cid):
                self.safety_number_changed.emit(cid)
            case ConsentRequired(conversation_id=cid, version=version):
                self.consent_required.emit(cid, version)
            case ConsentWithdrawn(conversation_id=cid, by_peer=by_peer):
                self.consent_withdrawn.emit(cid, by_peer)
            case ProfileLocked(reason=reason):
                self.profile_locked.emit(reason)
            case _:
                log.debug("ignored an unknown event type %s", type(event).__name__)
