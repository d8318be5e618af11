#!/usr/bin/env bash
# Install everything, then run flyos-agent on an embedded default: a demo network
# namespace (flyos-demo) with examples/demo.json as its first configuration,
# and attach the operator CLI. The agent stops when the CLI exits.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh

NS=${FLYOS_DEMO_NETNS:-flyos-demo}
STATE=${FLYOS_DEMO_STATE:-/var/lib/flyos-demo}
SOCK=${FLYOS_DEMO_SOCKET:-/run/flyos/demo.sock}
BACKEND=${FLYOS_DEMO_BACKEND:-linux}
LOG=${FLYOS_DEMO_LOG:-/var/log/flyos-demo.log}

ip netns list | grep -qw "$NS" || ip netns add "$NS"
mkdir -p "$(dirname "$SOCK")"

config=$(mktemp --suffix=.toml)
cat >"$config" <<TOML
[agent]
startup_config = "$PWD/examples/demo.json"
netconf_listen = "off"
rest_listen = "off"
TOML

.venv/bin/flyos-agent --config "$config" --netns "$NS" --state-dir "$STATE" \
  --ipc-socket "$SOCK" --backend "$BACKEND" 2>"$LOG" &
agent=$!
trap 'kill "$agent" 2>/dev/null; wait "$agent" 2>/dev/null; rm -f "$config"' EXIT

for _ in $(seq 300); do
  grep -q "flyos-agent ready" "$LOG" 2>/dev/null && break
  kill -0 "$agent" 2>/dev/null || { echo "demo: flyos-agent did not start:" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.1
done
grep "flyos-agent ready" "$LOG" || { echo "demo: flyos-agent is not ready; see $LOG" >&2; exit 1; }
echo "demo: agent log in $LOG; the kernel side is in 'ip netns exec $NS ...'"

export FLYOS_SOCKET=$SOCK
.venv/bin/flyos -c "show running"
if [ -t 0 ]; then
  .venv/bin/flyos || true
else
  echo "demo: no terminal; the agent keeps running on $SOCK until interrupted"
  wait "$agent"
fi
