#!/usr/bin/env bash
# tests/fuzz/run-long.sh NAME RUNS [SECONDS] — make fuzz-long:
# build/fuzz/NAME for RUNS executions (issue 19: at least 10 million
# each), or until SECONDS have passed if given and not 0, one worker, the
# corpus kept in build/fuzz/corpus-NAME as `make fuzz` does, the log in
# build/fuzz/long/NAME.log (tests/campaign/report.py reads the executions
# and crashes from it for docs/reliability.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
name=$1 runs=$2 seconds=${3:-0}
seeds=tests/fuzz/corpus/${name%_fuzz}
mkdir -p "build/fuzz/corpus-$name" "build/fuzz/crashes-$name" build/fuzz/long
t0=$SECONDS
"build/fuzz/$name" -runs="$runs" -max_total_time="$seconds" \
	-print_final_stats=1 \
	-artifact_prefix="build/fuzz/crashes-$name/" \
	"build/fuzz/corpus-$name" "$seeds" >"build/fuzz/long/$name.log" 2>&1
rc=$?
echo "stat::total_time_s: $((SECONDS - t0))" >>"build/fuzz/long/$name.log"
grep -aE 'stat::number_of_executed_units|ERROR|SUMMARY' "build/fuzz/long/$name.log"
echo "$name: exit $rc in $((SECONDS - t0)) s"
exit $rc
