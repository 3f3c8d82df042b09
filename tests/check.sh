#!/usr/bin/env bash
# tests/check.sh — runs every test suite that `make check` built, each
# step's output shown and kept in build/check/, then adds up the steps'
# "N passed, N failed" lines (and pytest's summary) into the closing line.
# Exit status 0 only when every step passed and something ran.
# Environment (set by the Makefile): TC_DIR, BOARDS, TEST_ARCHES, FUZZ_NAMES.
set -uo pipefail
cd "$(dirname "$0")/.."

LOGDIR=build/check
rm -rf "$LOGDIR" && mkdir -p "$LOGDIR"
total_passed=0 total_failed=0 step_no=0 steps_failed=()

# qemu-user runner for a test arch (empty: runs natively).
qemu_for() {
	case "$1" in
	aarch64) echo qemu-aarch64-static ;;
	armv7) echo qemu-arm-static ;;
	*) echo "" ;;
	esac
}

# Adds the counts a step printed; a step that printed none counts as one
# test, passed iff it exited 0.
count_step() {
	local log=$1 rc=$2 p f
	p=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | cut -d' ' -f1)
	f=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | cut -d' ' -f3)
	if [[ -z $p ]]; then
		p=$(grep -aoE '[0-9]+ passed' "$log" | tail -1 | cut -d' ' -f1)
		f=$(grep -aoE '[0-9]+ (failed|error)' "$log" | awk '{s+=$1} END {print s+0}')
	fi
	if [[ -z $p ]]; then
		if ((rc == 0)); then p=1 f=0; else p=0 f=1; fi
	fi
	if ((rc != 0 && f == 0)); then f=1; fi
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
}

# step NAME COMMAND...: runs one suite, bounded by STEP_TIMEOUT seconds.
step() {
	local name=$1 log rc t0=$SECONDS
	shift
	step_no=$((step_no + 1))
	log=$(printf '%s/%02d-%s.log' "$LOGDIR" "$step_no" "${name//[^A-Za-z0-9_.-]/_}")
	echo "=== $name"
	# timeout runs programs, not functions: a step that is a function of
	# this script runs in a child bash that has it (export -f below).
	if [[ $(type -t "$1") == function ]]; then
		set -- bash -c '"$@"' step "$@"
	fi
	timeout --kill-after=10 "${STEP_TIMEOUT:-600}" "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	echo "--- $name: exit $rc in $((SECONDS - t0)) s"
	count_step "$log" "$rc"
	if ((rc != 0)); then
		steps_failed+=("$name (exit $rc)")
	fi
}

# The product binaries must be static and stripped on every board.
static_check() {
	local passed=0 failed=0 b desc
	for b in $BOARDS; do
		desc=$(file -b "build/$b/bin/vigild")
		if [[ $desc == *"statically linked"* && $desc == *", stripped"* ]]; then
			echo "ok - $b: $(stat -c %s "build/$b/bin/vigild") bytes, $desc"
			passed=$((passed + 1))
		else
			echo "not ok - $b: $desc"
			failed=$((failed + 1))
		fi
	done
	echo "$passed passed, $failed failed"
	((failed == 0))
}

fuzz_smoke() {
	local name=$1 corpus work
	corpus=tests/fuzz/corpus/${name%_fuzz}
	work=$(mktemp -d)
	# New inputs go to the scratch dir; the seed corpus stays untouched.
	"build/fuzz/$name" -max_total_time="${FUZZ_SMOKE_SECONDS:-10}" \
		-print_final_stats=1 "$work" "$corpus"
	local rc=$?
	rm -rf "$work"
	return $rc
}

export -f static_check fuzz_smoke
export BOARDS FUZZ_SMOKE_SECONDS

step "unit host asan sim" build/test-asan/unit-sim
step "unit host asan linux" build/test-asan/unit-linux
step "unit host asan cksum one table" build/test-cksum1/unit-sim cksum
for arch in $TEST_ARCHES; do
	q=$(qemu_for "$arch")
	step "unit $arch sim" $q "build/test-$arch/unit-sim"
	step "unit $arch linux" $q "build/test-$arch/unit-linux"
done
step "static binaries" static_check
step "size budget" python3 tests/size.py check $BOARDS
step "folder layers (include graph, no cycles)" python3 tests/layers.py
step "lwip socket subset" tests/lwip/check.sh
step "toolchain tls loopback" tests/toolchain/run.sh "$TC_DIR" build/tls
# The fuzz smoke runs take one core for FUZZ_SMOKE_SECONDS each; the
# integration tests mostly wait on processes and sockets.  So the fuzz
# runs go one after another in the background while the integration step
# runs, and their logs are shown and counted when both are done.
fuzz_chain() {
	local f
	for f in $FUZZ_NAMES; do
		timeout --kill-after=10 "${STEP_TIMEOUT:-600}" \
			bash -c 'fuzz_smoke "$1"' step "$f" >"$LOGDIR/fuzz-$f.log" 2>&1
		echo $? >"$LOGDIR/fuzz-$f.rc"
	done
}
fuzz_chain &
fuzz_pid=$!
# The short reliability campaign runs inside the integration step
# (tests/integration/test_campaign.py); each run is recorded in
# build/campaign/runs.jsonl and its table is shown after the step.
rm -f build/campaign/runs.jsonl
# pytest-xdist: one worker per core (the tests share no state: each has
# its own tmp_path and ephemeral ports); --durations names the slowest.
step "integration" env VIGIL_BIN_DIR="$PWD/build/host/bin" \
	/usr/bin/python3 -m pytest -q -p no:cacheprovider -n "$(nproc)" \
	--durations=10 tests/integration
python3 tests/campaign/report.py --ledger build/campaign/runs.jsonl
wait "$fuzz_pid"
for f in $FUZZ_NAMES; do
	log=$LOGDIR/fuzz-$f.log
	rc=$(cat "$LOGDIR/fuzz-$f.rc" 2>/dev/null || echo 1)
	echo "=== fuzz $f (exit $rc)"
	grep -aE 'stat::number_of_executed_units|stat::average_exec_per_sec|ERROR|SUMMARY|Done [0-9]+ runs' "$log"
	count_step "$log" "$rc"
	if ((rc != 0)); then
		tail -n 40 "$log"
		steps_failed+=("fuzz $f (exit $rc)")
	fi
done

# End-to-end boots of the qemu appliance images (tests/e2e/): TCG, so
# they run after the integration and fuzz steps rather than beside them
# (a starved guest would miss its watchdog kicks); one worker per image
# file, the measurements they take shown after the step.
rm -f build/e2e/report.txt
step "e2e qemu appliances" env VIGIL_BIN_DIR="$PWD/build/host/bin" \
	/usr/bin/python3 -m pytest -q -p no:cacheprovider -n 2 --dist loadfile \
	--durations=5 tests/e2e
cat build/e2e/report.txt 2>/dev/null

echo
if ((${#steps_failed[@]})); then
	printf 'failed step: %s\n' "${steps_failed[@]}"
fi
echo "$total_passed passed, $total_failed failed"
((${#steps_failed[@]} == 0 && total_failed == 0 && total_passed > 0))
