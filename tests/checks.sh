# checks.sh: sourced by the plain check suites (lint, package): check NAME COMMAND... runs one
# check and prints PASS or FAIL (with the first lines of what it said); checks_summary SUITE
# prints the line tests/run-all.sh reads, "SUITE: N passed, N failed".
PASSED=0
FAILED=0

check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		PASSED=$((PASSED + 1))
		echo "PASS $name"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $name"
		echo "$out" | head -20 | sed 's/^/    /'
	fi
}

checks_summary() { echo "$1: $PASSED passed, $FAILED failed"; }
