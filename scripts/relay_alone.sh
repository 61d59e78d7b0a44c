#!/usr/bin/env bash
# Proves a self-hoster can install and start the relay without the desktop or client
# dependencies: a fresh virtual environment, `pip install .` (no extras), then the relay's
# own smoke check against a relay it starts on a free loopback port.
set -euo pipefail
python=${1:-python3}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --upgrade pip
"$work/venv/bin/pip" install --quiet "$here"
cd "$work"
"$work/venv/bin/python" - <<'PY'
import importlib.util, sys
banned = [m for m in ("PySide6", "sqlcipher3", "keyring", "doubleratchet", "x3dh") if importlib.util.find_spec(m)]
if banned:
    sys.exit(f"relay-alone: the base install pulled in {banned}")
import relay  # noqa: F401
print("relay-alone: installed without PySide6, sqlcipher3, keyring")
PY
if [ -f "$here/relay/cli.py" ]; then
  "$work/venv/bin/securechat-relay" --help >/dev/null
  "$work/venv/bin/securechat-relay" serve --host 127.0.0.1 --port 0 --data-dir "$work/data" \
      --port-file "$work/port" >"$work/relay.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || { cat "$work/relay.log" >&2; echo "relay-alone: the relay did not start" >&2; exit 1; }
  "$work/venv/bin/securechat-relay" check "ws://127.0.0.1:$(cat "$work/port")/ws"
  kill -TERM "$pid"; wait "$pid" || true
  echo "relay-alone: started and passed its own check"
fi
