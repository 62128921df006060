#!/usr/bin/env bash
# Set up everything Nowserving needs on a Debian machine: system packages, a
# virtual environment in .venv, and the pinned Python packages.
#   bash scripts/bootstrap.sh run    # what the apps need
#   bash scripts/bootstrap.sh test   # that, plus what the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}

# Qt's offscreen/X11 platforms, audio + speech, and fonts for every shipped script.
run_packages=(libegl1 libgl1 libopengl0 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1
  libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libpulse0 libspeechd2 speech-dispatcher
  espeak-ng fonts-dejavu-core fonts-noto-core fonts-noto-cjk)
# Real headless Chromium for the phone page, a virtual X screen, PDF to PNG for reports,
# PostgreSQL for the city tests (a private cluster per run: tests/pg.py).
test_packages=(chromium xvfb xauth poppler-utils postgresql)

packages=("${run_packages[@]}")
[ "$mode" = test ] && packages+=("${test_packages[@]}")

install_system_packages() {
  if ! command -v apt-get >/dev/null; then
    echo "bootstrap: not a Debian-like system; install these yourself: ${packages[*]}" >&2
    return 0
  fi
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  echo "bootstrap: installing system packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

install_system_packages "${packages[@]}"

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  if ! "$python" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    install_system_packages python3-venv
    "$python" -m venv .venv
  fi
fi

extra=gui
[ "$mode" = test ] && extra=dev
# Reinstall only when the pins or the project's dependencies changed.
stamp=".venv/.installed-$extra"
wanted=$(cat constraints.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[$extra]"
  echo "$wanted" > "$stamp"
fi
