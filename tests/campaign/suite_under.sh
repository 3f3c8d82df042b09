#!/usr/bin/env bash
# tests/campaign/suite_under.sh asan|valgrind [PYTEST ARGS...] — the whole
# integration suite (tests/integration, or the tests the arguments name) with vigild and vigil-backupd
# built with ASan + UBSan (build/asan/bin, `make asan-bins`) or run under
# valgrind's memcheck (vigil-backupd the host build, vigild
# build/valgrind/bin's, whose mbedTLS arena memcheck sees), every other
# program the host build's.  The tests find programs through VIGIL_BIN_DIR, so this makes
# build/suite-MODE/bin: links to build/host/bin, and for the two servers
# the sanitized binaries or scripts that exec valgrind; waits for events
# are stretched 10x under valgrind (VIGIL_TEST_TIME_SCALE).  Every sanitizer
# and memcheck report goes to its own file in build/suite-MODE/reports/
# (the tests still see the programs' normal stderr); the summary at the
# end counts them: a report is a finding whether or not a test failed.
# issue 19; make suite-asan, make suite-valgrind (docs/reliability.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
mode=$1
shift
[[ " $* " == *" tests/"* ]] || set -- "$@" tests/integration
out=build/suite-$mode
if [[ $mode == valgrind ]] && ! command -v valgrind >/dev/null; then
	echo "$0: valgrind is not installed (apt-get install valgrind)" >&2
	exit 2
fi
rm -rf "$out" && mkdir -p "$out/bin" "$out/reports"
reports=$PWD/$out/reports
for p in build/host/bin/*; do
	ln -s "$PWD/$p" "$out/bin/"
done
for prog in vigild vigil-backupd; do
	rm -f "$out/bin/$prog"
	case $mode in
	asan)
		ln -s "$PWD/build/asan/bin/$prog" "$out/bin/$prog" ;;
	valgrind)
		# vigild: the build whose arena tells memcheck its blocks
		# (build/valgrind/bin, lib/arena.c); vigil-backupd: the host's
		bin=$PWD/build/host/bin/$prog
		[[ $prog == vigild ]] && bin=$PWD/build/valgrind/bin/vigild
		# memcheck's own exit status stays out of the way (the tests
		# check the program's); definite leaks count, reachable do not
		printf '#!/bin/sh\nexec valgrind -q --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=%s/%s.%%p.log %s "$@"\n' \
			"$reports" "$prog" "$bin" >"$out/bin/$prog"
		chmod +x "$out/bin/$prog" ;;
	*)
		echo "usage: $0 asan|valgrind [pytest args]" >&2
		exit 2 ;;
	esac
done
# waits for events stretched (conftest.TIME_SCALE): memcheck is ~20x slower
scale=${VIGIL_TEST_TIME_SCALE:-$([[ $mode == valgrind ]] && echo 10 || echo 1)}
t0=$SECONDS
VIGIL_TEST_TIME_SCALE=$scale \
ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0" \
UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1" \
VIGIL_BIN_DIR="$PWD/$out/bin" \
	/usr/bin/python3 -m pytest -q -p no:cacheprovider -rfE \
	--junitxml="$out/junit.xml" "$@" 2>&1 | tee "$out/pytest.log"
rc=${PIPESTATUS[0]}
# valgrind -q writes nothing for a clean run: an empty log is no finding
find "$reports" -type f -empty -delete
n=$(find "$reports" -type f | wc -l)
echo "suite under $mode: pytest exit $rc in $((SECONDS - t0)) s; $n report file(s) in $out/reports"
grep -lE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error|definitely lost|Invalid (read|write)|uninitialised|Conditional jump' \
	"$reports"/* 2>/dev/null | sed 's/^/  finding: /'
exit $rc
