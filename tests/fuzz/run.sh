#!/usr/bin/env bash
# run.sh: each libFuzzer harness of tests/fuzz on its seed corpus, then for SECONDS more of
# mutations; the two run at once (one a core). One line per harness, then the summary line
# "fuzz: N passed, N failed" (tests/run-all.sh reads it).
#
#   tests/fuzz/run.sh BUILD SECONDS          make test: new inputs are thrown away
#   tests/fuzz/run.sh BUILD SECONDS keep     make fuzz: new inputs kept in BUILD/fuzz/corpus/NAME
#
# A crash, leak, sanitizer report or harness abort fails the harness; its input is left in
# BUILD/fuzz/artifacts/. Keep such an input in tests/fuzz/corpus/NAME/ once fixed: every run
# replays the seed corpus first.
set -u
BUILD=${1:-build}
SECONDS_EACH=${2:-5}
KEEP=${3:-}
HERE=$(dirname "$0")
ART="$BUILD/fuzz/artifacts"
mkdir -p "$ART"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

names=()
for src in "$HERE"/fuzz_*.c; do
	n=$(basename "$src" .c)
	n=${n#fuzz_}
	names+=("$n")
	if [ -n "$KEEP" ]; then
		out="$BUILD/fuzz/corpus/$n"
	else
		out="$work/corpus-$n"
	fi
	mkdir -p "$out"
	if [ ! -x "$BUILD/fuzz/fuzz_$n" ]; then
		echo "missing: $BUILD/fuzz/fuzz_$n (make fuzz-bins)" >"$work/$n.log"
		echo 1 >"$work/$n.rc"
		continue
	fi
	# -timeout: one input slower than 10 s is a failure too; the seeds are read, never written
	(
		"$BUILD/fuzz/fuzz_$n" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix="$ART/$n-" "$out" "$HERE/corpus/$n" \
			>"$work/$n.log" 2>&1
		echo $? >"$work/$n.rc"
	) &
done
wait

passed=0
failed=0
for n in "${names[@]}"; do
	rc=$(cat "$work/$n.rc")
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$n.log")
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$work/$n.log")
	cov=$(grep -o 'cov: [0-9]*' "$work/$n.log" | tail -1)
	seeds=$(find "$HERE/corpus/$n" -type f | wc -l)
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1))
		echo "PASS fuzz_$n: ${runs:-?} inputs in ${secs:-?} s from $seeds seeds, $cov"
	else
		failed=$((failed + 1))
		echo "FAIL fuzz_$n (exit $rc):"
		# the report, the frames in this repository's code, and where the input is
		grep -E 'ERROR|SUMMARY|Test unit written|runtime error|^ *#[0-9]+ .* in .*(loader|tests)/' \
			"$work/$n.log" | grep -v 'fuzzer::' | head -30 | sed 's/^/   /'
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
