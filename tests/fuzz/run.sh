#!/usr/bin/env bash
# tests/fuzz/run.sh NAME SECONDS — a long fuzzing run of build/fuzz/NAME
# (make fuzz).  New interesting inputs are kept in build/fuzz/corpus-NAME,
# crashes in build/fuzz/crashes-NAME; the seed corpus is read, never written.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$1 seconds=$2
seeds=tests/fuzz/corpus/${name%_fuzz}
mkdir -p "build/fuzz/corpus-$name" "build/fuzz/crashes-$name"
exec "build/fuzz/$name" -max_total_time="$seconds" -print_final_stats=1 \
	-artifact_prefix="build/fuzz/crashes-$name/" \
	"build/fuzz/corpus-$name" "$seeds"
