#!/usr/bin/env bash
# tests/run-dev.sh — `make run`: vigild for the host board in the
# foreground, with a development configuration kept in build/run/
# (created on first run, yours to edit afterwards).  Ctrl-C stops it;
# `kill -HUP` reloads the configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
run=$PWD/build/run
conf=$run/vigil.conf
mkdir -p "$run/data"
if [[ ! -f $conf ]]; then
	cat > "$conf" <<CONF
# Development configuration for \`make run\` (see docs/config.md).
log.level = debug
log.stderr = true
log.syslog = false
data.dir = $run/data
watchdog.device = none
console.device = none
CONF
fi
echo "vigild: config $conf (edit it, then: kill -HUP \$(pidof vigild))"
exec build/host/bin/vigild --config "$conf"
