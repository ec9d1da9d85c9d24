#!/usr/bin/env bash
# run-all.sh: every test suite (Criterion unit and BPF tests, end-to-end), then one summary line.
set -u
BUILD=${1:-build}
passed=0
failed=0
skipped=0

# took SINCE: the seconds since SINCE (date +%s.%N), for the suites' lines
took() {
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# criterion_suite BINARY [JOBS]: runs it (JOBS tests at once, 1 unless given) and adds its
# synthesis to the totals
criterion_suite() {
	local out line p f c t0
	echo "== $1"
	t0=$(date +%s.%N)
	out=$("$1" --jobs "${2:-1}" 2>&1)
	echo "$out" | grep -E '^\[(FAIL|SKIP|----)\]|Synthesis' | grep -v '^\[----\] *$'
	echo "   ($(took "$t0") s)"
	line=$(echo "$out" | grep 'Synthesis:' | tail -1)
	if [ -z "$line" ]; then
		echo "   $1 crashed before reporting"
		failed=$((failed + 1))
		return
	fi
	p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${c:-0}))
}

for t in "$BUILD"/tests/unit/test_*; do
	[ -x "$t" ] && criterion_suite "$t"
done
# the BPF tests two at a time: each has its own instance, cgroups and pins (named after its
# pid), and most of their time is the verifier's, on both cores
for t in "$BUILD"/tests/bpf/test_*; do
	[ -x "$t" ] && criterion_suite "$t" 2
done

# plain-text suites that end with "NAME: N passed, N failed[, N skipped]"
text_suite() {
	local name=$1 log line p f k t0
	shift
	echo "== $name"
	log=$(mktemp)
	t0=$(date +%s.%N)
	"$@" >"$log" 2>&1
	cat "$log"
	echo "   ($(took "$t0") s)"
	line=$(tail -1 "$log")
	rm -f "$log"
	p=$(echo "$line" | sed -n 's/^[a-z0-9]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
	f=$(echo "$line" | sed -n 's/^[a-z0-9]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
	k=$(echo "$line" | sed -n 's/^[a-z0-9]*: [0-9]* passed, [0-9]* failed, \([0-9]*\) skipped.*/\1/p')
	if [ -z "$p" ]; then
		echo "   $name ended without a summary"
		failed=$((failed + 1))
	else
		passed=$((passed + p))
		failed=$((failed + f))
		skipped=$((skipped + ${k:-0}))
	fi
}

text_suite tests/lint/run.sh tests/lint/run.sh
# each libFuzzer harness a few seconds on its seed corpus (make fuzz runs them longer)
text_suite tests/fuzz/run.sh tests/fuzz/run.sh "$BUILD" "${FUZZ_TEST_SECONDS:-5}"
text_suite tests/package/run.sh tests/package/run.sh "$BUILD"
# the crash test's kills (t_crash.sh): fewer than make crash-test's 300, to keep make test short;
# the areas in two runners at once and the classic-tc rerun in a third (parallel.sh)
CRASH_KILLS=${CRASH_KILLS:-20} text_suite tests/e2e/parallel.sh tests/e2e/parallel.sh "$BUILD"

# skipped (a kernel feature missing) only when there are some; never counted as passed
if [ "$skipped" = 0 ]; then
	echo "$passed passed, $failed failed"
else
	echo "$passed passed, $failed failed, $skipped skipped"
fi
[ "$failed" = 0 ]
