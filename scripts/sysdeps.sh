#!/usr/bin/env bash
# Installs the Debian packages that Qt (offscreen and under Xvfb) needs, when they are missing
# and we are allowed to: root with apt-get. Elsewhere it only says what is missing.
set -euo pipefail

need=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib 'libEGL.so.1'          || need+=(libegl1)
have_lib 'libGL.so.1'           || need+=(libgl1)
have_lib 'libxkbcommon.so.0'    || need+=(libxkbcommon0)
have_lib 'libxkbcommon-x11.so.0' || need+=(libxkbcommon-x11-0)
have_lib 'libfontconfig.so.1'   || need+=(libfontconfig1)
have_lib 'libdbus-1.so.3'       || need+=(libdbus-1-3)
have_lib 'libxcb-cursor.so.0'   || need+=(libxcb-cursor0)
have_lib 'libxcb-icccm.so.4'    || need+=(libxcb-icccm4)
have_lib 'libxcb-keysyms.so.1'  || need+=(libxcb-keysyms1)
have_lib 'libxcb-shape.so.0'    || need+=(libxcb-shape0)
have_lib 'libxcb-render-util.so.0' || need+=(libxcb-render-util0)
have_lib 'libxcb-image.so.0'    || need+=(libxcb-image0)
fc-list 2>/dev/null | grep -qi 'dejavu\|noto\|liberation' || need+=(fonts-dejavu-core)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages for Qt: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "Qt needs these system packages; install them with your package manager: ${need[*]}" >&2
fi
