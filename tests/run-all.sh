#!/usr/bin/env bash
# run-all.sh: every test suite (Criterion unit and BPF tests, end-to-end), then one summary line.
set -u
BUILD=${1:-build}
passed=0
failed=0
skipped=0

# criterion_suite BINARY: runs it and adds its synthesis to the totals
criterion_suite() {
	local out line p f c
	echo "== $1"
	out=$("$1" --jobs 1 2>&1)
	echo "$out" | grep -E '^\[(FAIL|SKIP|----)\]|Synthesis' | grep -v '^\[----\] *$'
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

for t in "$BUILD"/tests/unit/test_* "$BUILD"/tests/bpf/test_*; do
	[ -x "$t" ] && criterion_suite "$t"
done

# plain-text suites that end with "NAME: N passed, N failed[, N skipped]"
text_suite() {
	local name=$1 log line p f k
	shift
	echo "== $name"
	log=$(mktemp)
	"$@" >"$log" 2>&1
	cat "$log"
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
text_suite tests/package/run.sh tests/package/run.sh "$BUILD"
text_suite tests/e2e/run.sh tests/e2e/run.sh "$BUILD"

# skipped (a kernel feature missing) only when there are some; never counted as passed
if [ "$skipped" = 0 ]; then
	echo "$passed passed, $failed failed"
else
	echo "$passed passed, $failed failed, $skipped skipped"
fi
[ "$failed" = 0 ]
