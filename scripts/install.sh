#!/usr/bin/env bash
# Install every system package (apt) and Python package (into .venv) that
# FlyOS agent, its tests and its benchmarks need. Idempotent: a second run on
# a machine that has everything installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  iproute2 nftables python3-nftables       # kernel tooling the backends drive
  libyang2-dev pkg-config build-essential   # libyang, the independent YANG oracle
  libffi-dev libxml2-dev libxslt1-dev       # cffi, lxml
  sqlite3 tmux procps util-linux            # journal inspection, REPL tests, unshare
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "install: apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.flyos-installed
want=$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  echo "$want" >"$stamp"
fi
