#!/usr/bin/env bash
# run.sh: end-to-end tests: namespaces, a veth, real sockets and AF_PACKET frames, the real CLI.
#
#   tests/e2e/run.sh [BUILD [AREA|TEST]...]      (as root, from the top of the repository)
#
#   tests/e2e/run.sh build                     every area
#   tests/e2e/run.sh build dns xdp             the areas t_dns.sh and t_xdp.sh ("t_dns", "t_dns.sh" too)
#   tests/e2e/run.sh build test_explain        one test, with its area's fixtures
#   E2E_AREA="dns xdp" tests/e2e/run.sh build  the same as naming areas
#   E2E_ONLY="test_a test_b" tests/e2e/run.sh build   just those tests
#
# Areas, in the order they run: each t_*.sh registers one (area NAME FIXTURES FEATURES TESTS...)
# with the fixtures it needs. Fixtures (lib.sh: fixture_*) are made per area and undone after it,
# so an area runs alone as it runs among the others. Each test runs in a subshell; whatever way it
# ends, its background processes, the instance, its pins and cgroup programs are removed.
#
# Prints PASS/FAIL/SKIP per test (SKIP: a kernel feature is missing; never counted as passed), and
# last exactly one line "e2e: N passed, N failed, N skipped" (tests/run-all.sh reads it).
# Cleans up on any exit. The paths of the tool's state are in one block of lib.sh.
set -u
BUILD=${1:-build}
[ $# -gt 0 ] && shift

if [ "$(id -u)" != 0 ]; then
	echo "FAIL e2e: needs root (namespaces, BPF): run make test as root"
	echo "e2e: 0 passed, 1 failed, 0 skipped"
	exit 1
fi

E2E=$(dirname "$0")
. "$E2E/lib.sh"
E2E_FILES="scenario frames lifecycle stages prefixes cli tools cgroup live_edits log_audit explain dns names names_real sni dns_id xdp run restore tc_classic l2 cni collect crash"
for f in $E2E_FILES; do
	. "$E2E/t_$f.sh"
done
for f in "$E2E"/t_*.sh; do # an area file left out of the list would never run
	case " $E2E_FILES " in *" $(basename "$f" .sh | sed 's/^t_//') "*) ;; *)
		FAILED=$((FAILED + 1))
		echo "FAIL $f: not in E2E_FILES of run.sh" ;;
	esac
done

cleanup() {
	test_cleanup
	fixtures_down
	rm -rf "$LOGS" "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

run_selected "$@" ${E2E_AREA:-} ${E2E_ONLY:-}
test_cleanup
fixtures_down
left=$(leftovers)
if [ -n "$left" ]; then
	FAILED=$((FAILED + 1))
	echo "FAIL e2e: the run leaves behind:" $left
fi
echo "e2e: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
