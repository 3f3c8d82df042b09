#!/usr/bin/env bash
# tests/run-dev.sh — `make run`: vigild for the host board in the
# foreground, backing up to a local vigil-backupd over TLS 1.3.
#
# Everything lives in build/run/ (created on first run, yours to edit
# afterwards): vigil.conf, a PKI made by `vigilctl pki init` (CA, server
# certificate for localhost/127.0.0.1, device certificate), the server's
# data in backupd/, and files/ — what the agent backs up, every hour and
# on `build/host/bin/vigilctl backup coap://127.0.0.1 now`.
# Ctrl-C stops both; `kill -HUP $(pidof vigild)` reloads the configuration.
# VIGIL_RUN_BACKUP_PORT picks the server's port (default 1257).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/build/host/bin
run=$PWD/build/run
conf=$run/vigil.conf
port=${VIGIL_RUN_BACKUP_PORT:-1257}
mkdir -p "$run/data" "$run/files" "$run/backupd"
if [[ ! -f $run/pki/ca.crt ]]; then
	rm -rf "$run/pki"
	"$bin/vigilctl" pki init "$run/pki" --server-name localhost \
		--server-name 127.0.0.1 --device dev-host >/dev/null
fi
[[ -f $run/files/hello.txt ]] ||
	echo "vigil make run: files here are backed up to build/run/backupd" > "$run/files/hello.txt"
if [[ ! -f $conf ]]; then
	cat > "$conf" <<CONF
# Development configuration for \`make run\` (see docs/config.md).
log.level = debug
log.stderr = true
log.syslog = false
data.dir = $run/data
watchdog.device = none
console.device = none
# CoAP on loopback only, control allowed without DTLS (development only)
coap.listen = 127.0.0.1:5683
coap.dtls_listen = none
coap.open_control = true
backup.server = tls://127.0.0.1:$port
backup.paths = $run/files
backup.interval = 1h
tls.ca = $run/pki/ca.crt
tls.cert = $run/pki/devices/dev-host.crt
tls.key = $run/pki/devices/dev-host.key
CONF
fi

"$bin/vigil-backupd" --data "$run/backupd" --tls "127.0.0.1:$port" \
	--tls-cert "$run/pki/server.crt" --tls-key "$run/pki/server.key" \
	--tls-ca "$run/pki/ca.crt" --log-level warn &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
echo "vigil-backupd: 127.0.0.1:$port, data $run/backupd (status: $bin/vigil-backupd --data $run/backupd --status=json)"
echo "vigild: config $conf (edit it, then: kill -HUP \$(pidof vigild))"
echo "back up now: $bin/vigilctl backup coap://127.0.0.1 now"
"$bin/vigild" --config "$conf"
