"""Prometheus text exposition of the relay's counters (``GET /metrics``).

Invariant: no label ever carries anything about a client (no address, id or key); the only
label is the error code.
"""

from __future__ import annotations

from collections import Counter

from relay.exceptions import ErrorCode
from relay.store import StoreStats

__all__ = ["render_metrics"]


def render_metrics(
    counters: Counter[str],
    errors: Counter[str],
    connections: int,
    subscriptions: int,
    stats: StoreStats | None,
    store: object,
) -> str:
    """Return the Prometheus text for the given counters and store statistics."""
    lines: list[str] = []
    described: set[str] = set()

    def metric(name: str, kind: str, help_: str, value: float, labels: str = "") -> None:
        if name not in described:
            described.add(name)
            lines.append(f"# HELP securechat_relay_{name} {help_}")
            lines.append(f"# TYPE securechat_relay_{name} {kind}")
        # Counters must keep every digit: `:g` would print 12345678 as 1.23457e+07.
        text = str(value) if isinstance(value, int) else repr(float(value))
        lines.append(f"securechat_relay_{name}{labels} {text}")

    c = counters
    metric("connections", "gauge", "Open WebSocket connections.", connections)
    metric("connections_opened_total", "counter", "Connections accepted.", c["opened"])
    metric("subscriptions", "gauge", "Subscribed queues.", subscriptions)
    if stats is not None:
        metric("queues", "gauge", "Queues in the store.", stats.queues)
        metric("messages_stored", "gauge", "Messages waiting in the store.", stats.messages)
        metric("publications", "gauge", "Publications in the store.", stats.publications)
        metric("prekeys", "gauge", "Unused one-time prekeys.", stats.prekeys)
    metric("store_up", "gauge", "1 if the store answered.", 0 if stats is None else 1)
    writing = getattr(store, "failing", None) is None
    metric("store_writable", "gauge", "0 while the store's writes fail.", 1 if writing else 0)
    metric("messages_in_total", "counter", "Messages stored by SEND.", c["in"])
    metric("messages_out_total", "counter", "Messages pushed to subscribers.", c["out"])
    metric("messages_acked_total", "counter", "Messages deleted by ACK.", c["acked"])
    metric("messages_expired_total", "counter", "Messages deleted by the TTL.", c["expired"])
    metric(
        "prekeys_withheld_total",
        "counter",
        "FETCHes answered without a one-time prekey (the publication's rate was used up).",
        c["prekeys_withheld"],
    )
    metric("commands_total", "counter", "Commands received.", c["commands"])
    for code in ErrorCode:
        label = f'{{code="{code.value}"}}'
        metric("errors_total", "counter", "ERR replies by code.", errors[code.value], label)
    batches = getattr(store, "batches", None)
    if isinstance(batches, int):
        metric("store_commits_total", "counter", "Store transactions committed.", batches)
        ops = getattr(store, "batched_ops", 0)
        metric("store_operations_total", "counter", "Store operations run.", ops)
        secs = getattr(store, "batch_seconds", 0.0)
        metric("store_busy_seconds_total", "counter", "Time in store transactions.", secs)
        failed = getattr(store, "write_failures", 0)
        metric("store_failures_total", "counter", "Store transactions that failed.", failed)
    return "\n".join(lines) + "\n"
