#!/usr/bin/env bash
# tests/run-dev.sh — `make run`: vigild for the host board, backing up to
# a local vigil-backupd over TLS 1.3, ending at vigild's console prompt on
# this terminal (`help`, `status`, `backup now`; `exit` or Ctrl-D stops
# vigild and the server). Both logs go to files named at start.
#
# Everything lives in build/run/ (created on first run, yours to edit
# afterwards): vigil.conf, a PKI made by `vigilctl pki init` (CA, server
# certificate for localhost/127.0.0.1, device certificate), the server's
# data in backupd/, and files/ — what the agent backs up, every hour and
# on `build/host/bin/vigilctl backup coap://127.0.0.1 now`.
# `config reload` at the prompt (or `kill -HUP $(pidof vigild)`) reloads
# the configuration.
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
# the log goes to stderr, which make run sends to build/run/vigild.log
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

srv_log=$run/backupd.log
agent_log=$run/vigild.log
"$bin/vigil-backupd" --data "$run/backupd" --tls "127.0.0.1:$port" \
	--tls-cert "$run/pki/server.crt" --tls-key "$run/pki/server.key" \
	--tls-ca "$run/pki/ca.crt" --log-level info 2>"$srv_log" &
server=$!
stop_server() {
	kill -TERM "$server" 2>/dev/null || return 0
	wait "$server" 2>/dev/null || true
	echo "vigil-backupd stopped"
}
trap stop_server EXIT
# Wait for the server's status socket, so the agent's first backup finds
# it (and a server that failed to start says so here).
for _ in $(seq 50); do
	if ! kill -0 "$server" 2>/dev/null; then
		cat "$srv_log" >&2
		echo "make run: vigil-backupd did not start (log above)" >&2
		exit 1
	fi
	"$bin/vigil-backupd" --data "$run/backupd" --status=json >/dev/null 2>&1 && break
	sleep 0.1
done
cat <<EOF
vigil-backupd: tls://127.0.0.1:$port, data $run/backupd
               log $srv_log
               status: $bin/vigil-backupd --data $run/backupd --status=json
vigild:        config $conf
               log $agent_log
               backs up $run/files
               CoAP status: $bin/vigilctl status coap://127.0.0.1
Console below: try help, status, backup now, backup jobs.
exit or Ctrl-D stops vigild and the server.
EOF
rc=0
"$bin/vigild" --config "$conf" --console 2>"$agent_log" || rc=$?
echo "vigild stopped (exit $rc)"
exit "$rc"
