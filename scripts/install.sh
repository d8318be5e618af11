#!/usr/bin/env bash
# Install every system package (apt) and Python package (into .venv) that
# FlyOS agent, its tests and its benchmarks need. Idempotent: a second run on
# a machine that has everything installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  iproute2 nftables python3-nftables       # kernel tooling the backends drive
  iputils-ping                              # traffic checks in the namespace tests
  libyang2-dev pkg-config build-essential   # libyang, the independent YANG oracle
  libffi-dev libxml2-dev libxslt1-dev       # cffi, lxml
  sqlite3 tmux procps util-linux            # journal inspection, REPL tests, unshare
  curl openssl                              # REST tests: the original curl call, TLS certs
  chromium fonts-dejavu-core fonts-liberation  # REST docs page screenshot (headless)
  qemu-system-x86 linux-image-amd64 busybox-static kmod  # VM tier: a stock kernel under QEMU
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

# Ansible lives in its own venv (its pins must not steer ours): ansible 12 bundles
# ansible.netcommon, whose netconf connection needs ncclient (and jxmlease for JSON).
ANSIBLE_PACKAGES=("ansible>=12,<13" "ncclient>=0.7,<0.8" "jxmlease>=1.0.3,<2")
if [ ! -x .venv-ansible/bin/python ]; then
  "$PYTHON" -m venv .venv-ansible
fi
ansible_stamp=.venv-ansible/.flyos-installed
ansible_want=$(printf '%s\n' "${ANSIBLE_PACKAGES[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -f "$ansible_stamp" ] || [ "$(cat "$ansible_stamp")" != "$ansible_want" ]; then
  .venv-ansible/bin/python -m pip install -q --upgrade pip
  .venv-ansible/bin/python -m pip install -q "${ANSIBLE_PACKAGES[@]}"
  echo "$ansible_want" >"$ansible_stamp"
fi
