#!/usr/bin/env bash
# parallel.sh: the e2e areas in two runners at once, and the classic-tc rerun in a third
# (make test), then one summary line.
#
#   tests/e2e/parallel.sh [BUILD]
#
# Most of an e2e test is waiting (a denied connect's timeout, a flow paced over seconds, a
# switch under traffic), so two runners on two cores take a little more than half the time of
# one. The runners cannot meet: every name of a run (namespaces, cgroup, instance, pins, files)
# carries its process id (lib.sh), and the areas whose names are fixed (cni: the instance of a
# container id) run in one runner only. FIRST is the first runner's areas; the second takes
# every other area of run.sh's E2E_FILES, so a new area runs without being listed here.
# Each runner's output is printed whole, first then second; the last line sums both, as run.sh's
# "e2e: N passed, N failed, N skipped".
set -u
BUILD=${1:-build}
E2E=$(dirname "$0")
FIRST="crash cni tc_classic explain dns_id dns xdp run l2 frames cli sni"
ALL=$(sed -n 's/^E2E_FILES="\(.*\)"$/\1/p' "$E2E/run.sh")
SECOND=
for a in $ALL; do
	case " $FIRST " in *" $a "*) ;; *) SECOND="$SECOND $a" ;; esac
done
out1=$(mktemp)
out2=$(mktemp)
out3=$(mktemp)
trap 'rm -f "$out1" "$out2" "$out3"' EXIT
trap 'kill $p1 $p2 $p3 2>/dev/null; exit 130' INT TERM
E2E_AREA="$FIRST" "$E2E/run.sh" "$BUILD" >"$out1" 2>&1 &
p1=$!
E2E_AREA="$SECOND" "$E2E/run.sh" "$BUILD" >"$out2" 2>&1 &
p2=$!
# a third runner (E2E_CLASSIC=0 leaves it out): the areas that judge traffic, switch and
# restore again with every tc point a classic tc filter, as on a kernel without tcx (Debian
# 12's 6.1): t_tc_classic.sh has the specific tests; edits in place touch no attachment, and
# lifecycle's switches cover the classic filter's
if [ "${E2E_CLASSIC:-1}" = 1 ]; then
	echo "-- again with classic tc filters (IRONCLAW_TC_ATTACH=classic)" >"$out3"
	IRONCLAW_TC_ATTACH=classic E2E_AREA="scenario frames restore" \
		E2E_ONLY="test_uninstall_leaves_nothing test_block_then_install \
		test_bad_profile_keeps_running_policy test_install_over_install_during_flow \
		test_status_notices_lost_attachment" "$E2E/run.sh" "$BUILD" >>"$out3" 2>&1 &
	p3=$!
else
	echo "e2e: 0 passed, 0 failed, 0 skipped" >"$out3"
	p3=
fi
wait $p1 $p2 $p3
passed=0 failed=0 skipped=0
for f in "$out1" "$out2" "$out3"; do
	grep -v '^e2e: [0-9]* passed' "$f"
	line=$(grep '^e2e: [0-9]* passed' "$f" | tail -1)
	if [ -z "$line" ]; then
		echo "FAIL e2e runner ended without a summary"
		failed=$((failed + 1))
		continue
	fi
	set -- $(echo "$line" | sed 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/')
	passed=$((passed + $1)) failed=$((failed + $2)) skipped=$((skipped + $3))
done
echo "e2e: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
