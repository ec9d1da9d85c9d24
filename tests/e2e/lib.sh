# lib.sh: the e2e harness. Sourced by run.sh (after BUILD is set), before the t_*.sh areas.
#
#   the tool's state paths  (one place: STATE_DIR, PIN_DIR, ... below)
#   fixtures                fixture NAME: idempotent, recorded, all undone by fixtures_down
#   areas                   area NAME "FIXTURES" "KERNEL FEATURES" TESTS...: a t_*.sh file registers one
#   per test                run_test: the test in a subshell; whatever happens, its background
#                           processes, deferred commands, instance, test pins and cgroup programs go
#   results                 PASS / FAIL / SKIP (skip: a kernel feature really missing, never a pass)
#   shared assertions       probes, counters, explain, raw frames: what several areas use
#
# Helpers of one area live in its t_*.sh file.

BIN=$BUILD/ironclaw-pipe
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NET_PREFIX=icpe2e$$
INSTANCE=e2e$$
. "$E2E_DIR/../../tools/sandbox-net.sh"

# ---- the tool's state: every path the tests look at. The layout is the loader's (loader/state.h,
# docs/architecture.md); when it moves, this block is the one place to change.
PIN_ROOT=/sys/fs/bpf/ironclaw                # bpffs: one directory of pins per instance
PIN_DIR=$PIN_ROOT/$INSTANCE                  # this run's instance: programs, maps, links
STATE_DIR=/run/ironclaw-pipe                 # runtime state, one root-only directory per instance
INSTANCE_STATE=$STATE_DIR/$INSTANCE          # lock, log.lock, instance.conf, rules.list, live.d/
RULES_FILE=$INSTANCE_STATE/rules.list        # the installed rule list
CONF_FILE=$INSTANCE_STATE/instance.conf      # how the instance was installed
DROPIN_DIR=$INSTANCE_STATE/live.d            # runtime drop-ins
LIVE_RULES_FILE=$DROPIN_DIR/90-live.rules    # what allow and revoke edit
XDP_LIB_DIR=/sys/fs/bpf/xdp                  # libxdp's own directory in bpffs (not ours)
CONF_ROOT=/etc/ironclaw-pipe                 # persistent configuration
ENABLED_FILE=$CONF_ROOT/instances/$INSTANCE.conf   # what enable writes, restore reads
ENABLED_LIVE=$CONF_ROOT/instances/$INSTANCE.live.rules   # live edits kept by --persist
DATA_ROOT=/var/lib/ironclaw-pipe             # persistent data, one directory per instance
JOURNAL_DIR=$DATA_ROOT/$INSTANCE/journal     # the collector's event journal (segments *.jrn)

# lock_files NAME: the lock files instance NAME has (none when it is not installed)
lock_files() { ls -d "$STATE_DIR/$1/lock" "$STATE_DIR/$1/log.lock" 2>/dev/null; }

# ---- this run's own things, all removed at exit
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CG=$CGROOT/icpe2e$$                # the sandbox's cgroup; tools below it
TEST_PINS=/sys/fs/bpf/icpe2e$$-    # prefix of the pins tests make themselves (bpftool prog loadall)
XDP_DIR_BEFORE=$([ -e "$XDP_LIB_DIR" ] && echo yes)
PIN_ROOT_BEFORE=$([ -e "$PIN_ROOT" ] && echo yes)
CONF_ROOT_BEFORE=$([ -e "$CONF_ROOT" ] && echo yes)
CONF_INSTANCES_BEFORE=$([ -e "$CONF_ROOT/instances" ] && echo yes)
DATA_ROOT_BEFORE=$([ -e "$DATA_ROOT" ] && echo yes)
umask 022                          # profiles the tests write: root's alone, whoever runs them
LOGS=$(mktemp -d)                  # the servers' logs
WORK=$(mktemp -d)                  # profiles and outputs; emptied between areas
SKIP_FILE=$WORK/.skip              # a test's skip reason (see skip_unless)
FAIL_FILE=$WORK/.fail              # every fail of a test, even one whose caller went on

PASSED=0
FAILED=0
SKIPPED=0

# fail MESSAGE: prints it, and the test fails even if the caller goes on (returns 1)
fail() {
	echo "    $*"
	echo "$*" >>"$FAIL_FILE"
	return 1
}

# ---- kernel features: kernel_lacks FEATURE prints why it is missing (status 0), or nothing (1)
kernel_lacks() {
	local major minor
	case $1 in
	btf) [ -r /sys/kernel/btf/vmlinux ] && return 1
		echo "kernel BTF missing (/sys/kernel/btf/vmlinux)" ;;
	tcx) IFS=. read -r major minor _ <<<"$(uname -r)"
		[ "$major" -gt 6 ] || { [ "$major" = 6 ] && [ "${minor%%[!0-9]*}" -ge 6 ]; } && return 1
		echo "kernel $(uname -r) has no tcx links (6.6 or later)" ;;
	cgroup2) [ -n "$CGROOT" ] && return 1
		echo "no cgroup v2 mount in /proc/mounts" ;;
	xdp) bpftool feature probe kernel 2>/dev/null | grep -q "program_type xdp is available" && return 1
		echo "the kernel has no XDP programs" ;;
	*) echo "unknown kernel feature '$1' (a typo in the test)"; return 2 ;;
	esac
	return 0
}

# skip_unless FEATURE...: inside a test, ends it as SKIP when a feature is really missing
skip_unless() {
	local f why
	for f in "$@"; do
		why=$(kernel_lacks "$f")
		case $? in
		0) echo "$why" >"$SKIP_FILE"; exit 77 ;;
		2) fail "$why"; exit 1 ;;
		esac
	done
}

# ---- fixtures. Each is idempotent; fixtures_down undoes them all (between areas, and at exit).
FIXTURES_UP=" "

fixture() {

	for f in "$@"; do
		case $FIXTURES_UP in *" $f "*) continue ;; esac
		"fixture_$f" || { echo "    fixture $f failed"; return 1; }
		FIXTURES_UP="$FIXTURES_UP$f "
	done
}

# the two namespaces, the veth and the servers (tools/sandbox-net.sh)
fixture_net() {
	net_up || return 1
	net_services "$LOGS"
	HOST_MAC=$(ip -n "$CORP" link show host0 | awk '/ether/ {print $2}')
}

# the sandbox's cgroup with two tools, memscraper (with a process cgroup nested below) and other
fixture_cgroups() { mkdir -p "$CG/memscraper/nested" "$CG/other"; }

# the shipped profile's DNS and HTTPS, and the 8080 rule for memscraper alone
TOOLS_PROFILE=$WORK/prof-tools-cg
fixture_tools_profile() {
	mkdir -p "$TOOLS_PROFILE"
	cp rules.d/10-dns.rules rules.d/20-https.rules "$TOOLS_PROFILE/"
	echo "allow tcp 10.42.7.11 port 8080 tool memscraper" >"$TOOLS_PROFILE/30-internal.rules"
}

# the shipped profile with udp 10.42.7.11:9000 (the raw-frame flows), and the same without tools
FLOW_PROFILE=$WORK/prof-flow
FLOW_PROFILE_NO_TOOLS=$WORK/prof-flow-no-tools
fixture_flow_profiles() {
	mkdir -p "$FLOW_PROFILE" "$FLOW_PROFILE_NO_TOOLS"
	cp rules.d/*.rules "$FLOW_PROFILE/"
	echo "allow udp 10.42.7.11 port 9000" >"$FLOW_PROFILE/40-flow.rules"
	cp rules.d/10-dns.rules rules.d/20-https.rules "$FLOW_PROFILE/40-flow.rules" "$FLOW_PROFILE_NO_TOOLS/"
}

cgroups_down() {
	[ -d "$CG" ] || return 0
	find "$CG" -depth -type d -exec rmdir {} \; 2>/dev/null
}

fixtures_down() {
	net_down
	cgroups_down
	find "$WORK" -mindepth 1 -delete 2>/dev/null
	find "$LOGS" -mindepth 1 -delete 2>/dev/null
	FIXTURES_UP=" "
	# a refused install may leave the loader's empty root: ours to remove if it was not there
	[ -n "$PIN_ROOT_BEFORE" ] || rmdir "$PIN_ROOT" 2>/dev/null
	[ -n "$CONF_INSTANCES_BEFORE" ] || rmdir "$CONF_ROOT/instances" 2>/dev/null
	[ -n "$CONF_ROOT_BEFORE" ] || rmdir "$CONF_ROOT" 2>/dev/null
	[ -n "$DATA_ROOT_BEFORE" ] || rmdir "$DATA_ROOT" 2>/dev/null
	return 0
}

# ---- per test: what a test leaves behind goes, pass or fail

# defer COMMAND...: run at the end of the current test, however it ends (last deferred first)
DEFERRED=()
defer() {
	local q
	printf -v q '%q ' "$@"
	DEFERRED=("$q" "${DEFERRED[@]}")
}

# kill_tree PID: the process and everything it started (by id, children first)
kill_tree() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do kill_tree "$c"; done
	kill "$1" 2>/dev/null
}

# in the test's subshell, on its exit: deferred commands, then its background processes
test_exit() {
	local c p
	for c in "${DEFERRED[@]}"; do eval "$c" >/dev/null 2>&1; done
	for p in $(jobs -p); do kill_tree "$p"; done
	wait 2>/dev/null
}

# programs tests attached to the tool cgroups themselves (the instance's links are gone by then)
cgroup_progs_down() {
	local d id type
	[ -d "$CG" ] || return 0
	while read -r d; do
		bpftool cgroup show "$d" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ {print $1, $2}' |
			while read -r id type; do bpftool cgroup detach "$d" "$type" id "$id" 2>/dev/null; done
	done < <(find "$CG" -type d)
}

# in the runner, after every test
test_cleanup() {

	"$BIN" uninstall --name "$INSTANCE" >/dev/null 2>&1
	# the collector a restore started ends with its instance; not later than now
	pkill -f -- "collect --name $INSTANCE --until-uninstalled" 2>/dev/null
	rm -f "$ENABLED_FILE" "$ENABLED_LIVE"
	rm -rf "${DATA_ROOT:?}/$INSTANCE"
	cgroup_progs_down
	rm -rf "$TEST_PINS"*
}

# leftovers: what of this run is still there (nothing, after test_cleanup and fixtures_down)
leftovers() {

	for f in "$PIN_DIR" "$INSTANCE_STATE" "$CG" "$TEST_PINS"* "$ENABLED_FILE" "$ENABLED_LIVE" \
		"$DATA_ROOT/$INSTANCE"; do
		[ -e "$f" ] && echo "$f"
	done
	ip netns list | awk -v s="$SBX" -v c="$CORP" '$1 == s || $1 == c {print "netns " $1}'
}

# ---- areas and the runner
AREAS=()
declare -A AREA_FIXTURES AREA_NEEDS AREA_TESTS

# area NAME "FIXTURES" "KERNEL FEATURES" TESTS...: every area needs the network, the cgroups and
# BTF (each install; tc points attach as classic tc filters where the kernel has no tcx); it names
# what more it needs
area() {
	local a=$1
	AREAS+=("$a")
	AREA_FIXTURES[$a]="net cgroups $2"
	AREA_NEEDS[$a]="btf cgroup2 $3"
	shift 3
	AREA_TESTS[$a]="$*"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

run_test() {
	local name=$1 out rc t0
	t0=$(now_ms)
	rm -f "$SKIP_FILE" "$FAIL_FILE"
	out=$( (
		trap 'rc=$?; trap - EXIT; test_exit; exit $rc' EXIT
		"$name"
	) 2>&1)
	rc=$?
	local ms=$(($(now_ms) - t0))
	local took=$((ms / 1000)).$((ms % 1000 / 100))
	if [ $rc = 0 ] && [ -e "$FAIL_FILE" ]; then
		rc=1 # returned 0 after a fail
	fi
	if [ $rc = 0 ]; then
		PASSED=$((PASSED + 1))
		echo "PASS $name ($took s)"
		[ -z "$out" ] || echo "$out" | grep '^    ' # what a passing test reports (counts seen)
	elif [ $rc = 77 ] && [ -s "$SKIP_FILE" ]; then
		SKIPPED=$((SKIPPED + 1))
		echo "SKIP $name: $(cat "$SKIP_FILE")"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $name (exit $rc)"
		echo "$out" | sed 's/^/    /'
	fi
	test_cleanup
	return 0
}

# run_area AREA [TEST...]: fixtures, then those tests of AREA (all when none named), then teardown
run_area() {
	local a=$1 t f why=
	shift
	local tests=${*:-${AREA_TESTS[$a]}}
	for f in ${AREA_NEEDS[$a]}; do
		why=$(kernel_lacks "$f") && break
		why=
	done
	if [ -n "$why" ]; then
		for t in $tests; do
			SKIPPED=$((SKIPPED + 1))
			echo "SKIP $t: $why"
		done
		return 0
	fi
	echo "-- $a"
	if ! fixture ${AREA_FIXTURES[$a]}; then
		for t in $tests; do
			FAILED=$((FAILED + 1))
			echo "FAIL $t: the fixtures of area $a could not be set up"
		done
	else
		for t in $tests; do run_test "$t"; done
	fi
	fixtures_down
}

# area_of TEST: the area that registered it
area_of() {
	local a
	for a in "${AREAS[@]}"; do
		case " ${AREA_TESTS[$a]} " in *" $1 "*) echo "$a"; return 0 ;; esac
	done
	return 1
}

# run_selected WORD...: each an area (dns, t_dns, t_dns.sh) or a test (test_...); none: all areas
run_selected() {
	local w a t want_areas=" " want_tests=" "
	[ $# = 0 ] && set -- "${AREAS[@]}"
	for w in "$@"; do
		w=${w##*/}
		w=${w%.sh}
		case $w in
		test_*)
			if a=$(area_of "$w"); then
				want_tests="$want_tests$w "
				want_areas="$want_areas$a "
			else
				FAILED=$((FAILED + 1))
				echo "FAIL $w: no such test"
			fi
			;;
		*)
			w=${w#t_}
			if [ -n "${AREA_TESTS[$w]+x}" ]; then
				want_areas="$want_areas$w "
				want_tests="$want_tests${AREA_TESTS[$w]} "
			else
				FAILED=$((FAILED + 1))
				echo "FAIL $w: no such area (areas: ${AREAS[*]})"
			fi
			;;
		esac
	done
	# in the areas' order, each area's tests in its order
	for a in "${AREAS[@]}"; do
		case $want_areas in *" $a "*) ;; *) continue ;; esac
		local tests=()
		for t in ${AREA_TESTS[$a]}; do
			case $want_tests in *" $t "*) tests+=("$t") ;; esac
		done
		run_area "$a" "${tests[@]}"
	done
}

# each_row FUNCTION < TABLE: FUNCTION with the words of each row (shell quoting, $VARS expand;
# blank and # lines ignored); stops at the first row that fails, as a list of asserts would
each_row() {
	local _row_fn=$1 _row _rows=() _row_words
	mapfile -t _rows
	for _row in "${_rows[@]}"; do
		case $_row in '' | '#'*) continue ;; esac
		eval "_row_words=($_row)" || fail "bad table row: $_row" || return 1
		"$_row_fn" "${_row_words[@]}" || return 1
	done
}

# ---- shared assertions and probes

# count REASON: packets the instance counted for that reason
count() {
	"$BIN" status --name "$INSTANCE" --json |
		grep -o "\"$1\":{\"verdict\":\"[a-z]*\",\"packets\":[0-9]*" | grep -o '[0-9]*$'
}

install_ingress() {
	"$BIN" install --profile "${1:-rules.d}" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" >/dev/null ||
		fail "install at host-side tc ingress failed"
}

install_egress() {
	"$BIN" install --profile "${1:-rules.d}" --tc "sbx0@$SBX" --sandbox-cgroup "$CG" \
		--name "$INSTANCE" >/dev/null || fail "install at in-sandbox tc egress failed"
}

install_cgroup() {
	"$BIN" install --profile "$TOOLS_PROFILE" --cgroup "$CG" --sandbox-netns "$SBX" \
		--name "$INSTANCE" "$@" >/dev/null || fail "install at the cgroup hooks failed"
}

# in_tool TOOL COMMAND...: run a sandbox command as a process of cgroup TOOL ("" = the sandbox's own)
in_tool() {
	local dir=$CG${1:+/$1}
	shift
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec ip netns exec "$@"' sh "$dir" "$SBX" "$@"
}

tool_out() {
	local t=$1
	shift
	in_tool "$t" "$BUILD/netprobe" "$@" 2>/dev/null
}

# a probe from the sandbox, as the scraper tool (the shipped profile's 8080 rule is its alone)
probe() { tool_out memscraper "$@"; }

expect_ok() {
	local out
	out=$(probe "$@") || fail "$* should get through, got: $out"
}

expect_denied() {
	local out
	out=$(probe "$@" --timeout-ms 800)
	case $out in
	"fail "*ETIMEDOUT) ;;
	*) fail "$* should be dropped (time out), got: $out" ;;
	esac
}

# expect ok|denied PROBE-ARGS...: a table row for expect_ok / expect_denied
expect() {
	local v=$1
	shift
	case $v in
	ok) expect_ok "$@" ;;
	denied) expect_denied "$@" ;;
	*) fail "bad verdict '$v' in a table" ;;
	esac
}

# want_eperm TOOL PROBE-ARGS...: the call fails at once with EPERM (the cgroup hooks)
want_eperm() {
	local t=$1 out
	shift
	out=$(tool_out "$t" "$@" --timeout-ms 2000)
	case $out in
	"fail "*EPERM) ;;
	*) fail "tool '${t:-(sandbox root)}' $*: want EPERM, got: $out" ;;
	esac
}

want_ok() {
	local t=$1 out
	shift
	out=$(tool_out "$t" "$@" --timeout-ms 2000)
	[ "${out%% *}" = ok ] || fail "tool '${t:-(sandbox root)}' $*: want ok, got: $out"
}

# want ok|eperm TOOL PROBE-ARGS...: a table row for want_ok / want_eperm ("" = the sandbox root)
want() {
	local v=$1
	shift
	case $v in
	ok) want_ok "$@" ;;
	eperm) want_eperm "$@" ;;
	*) fail "bad verdict '$v' in a table" ;;
	esac
}

HOST_MAC=
raw() { sbx "$BUILD/rawframe" sbx0 --dst-mac "$HOST_MAC" "$@" >/dev/null; }

# raw_delta REASON N RAWFRAME-ARGS...: sends frames, checks REASON counted exactly N more
raw_delta() {
	local reason=$1 want=$2 before after
	shift 2
	before=$(count "$reason")
	raw "$@" || fail "rawframe $* failed"
	sleep 0.2
	after=$(count "$reason")
	[ $((after - before)) = "$want" ] ||
		fail "$reason went $before -> $after after rawframe $*, want +$want; the log ends:" \
			"$("$BIN" log --name "$INSTANCE" 2>&1 | tail -5)"
}

# explain_is WANT-EXIT TOOL|- PROTO ADDR PORT: explain's exit status for that packet
explain_is() {
	local want=$1 t=$2 rc tool=()
	shift 2
	[ "$t" = - ] || tool=(tool "$t")
	"$BIN" explain --name "$INSTANCE" "$@" "${tool[@]}" >"$WORK/explain.out" 2>&1
	rc=$?
	[ $rc = "$want" ] || fail "explain $* ($t): exit $rc, want $want: $(cat "$WORK/explain.out")"
}

# explains WANT-EXIT PATTERN TOOL|- PROTO ADDR PORT...: explain_is, and a line of its output
# matches PATTERN
explains() {
	local want=$1 pat=$2
	shift 2
	explain_is "$want" "$@" || return 1
	grep -q "$pat" "$WORK/explain.out" || fail "explain $*: $(cat "$WORK/explain.out")"
}

# the demo's cases, as assertions; $2: the profile installed (rules.d)
scenario_cases() {
	local before prof=${2:-rules.d}
	before=$(wc -l <"$LOGS/collector.log")
	expect_ok connect 10.42.7.11 8080 --post "e2e-$1" || return 1
	sleep 0.1
	grep -q "body=e2e-$1 len=$((4 + ${#1}))" "$LOGS/collector.log" ||
		fail "collector did not print the POST body: $(tail -1 "$LOGS/collector.log")" || return 1
	[ "$(wc -l <"$LOGS/collector.log")" -gt "$before" ] || return 1
	# a body of many segments (GSO, page fragments) gets through whole
	expect_ok connect 10.42.7.11 8080 --post-bytes 1000000 --timeout-ms 5000 || return 1
	sleep 0.1
	tail -1 "$LOGS/collector.log" | grep -q " len=1000000$" ||
		fail "the 1 MB POST did not arrive whole: $(tail -1 "$LOGS/collector.log" | grep -o 'len=[0-9]*')" || return 1
	each_row expect <<-'EOF' || return 1
		denied connect 10.42.7.11 8081
		denied connect 10.42.7.12 8080
		denied connect 203.0.113.9 443
		denied udp 10.42.0.99 53
		ok udp 10.42.0.53 53
		ok connect 203.0.113.1 443
		ok connect 198.51.100.42 443
	EOF
	[ "$(count no_rule)" -ge 4 ] || fail "no_rule counter $(count no_rule), want >= 4" || return 1
	# the 8080 rule, with the file and line it came from, counted what it let through
	"$BIN" rules --name "$INSTANCE" --json | grep -q '"stage":"internal","file":"'"$prof"'/30-internal.rules","line":3,"text":"allow tcp 10.42.7.11 port 8080 tool memscraper","packets":[1-9]' ||
		fail "rules --json: $("$BIN" rules --name "$INSTANCE" --json)"
}

# expect_refused PROFILE_DIR PATTERN: install fails with exit 1 and PATTERN on stderr
expect_refused() {
	local out rc
	out=$("$BIN" install --profile "$1" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 1 ] || fail "install of $1 exited $rc, want 1"
	echo "$out" | grep -q -- "$2" || fail "message '$out' lacks '$2'"
}

# exits_with RC PATTERN COMMAND...: COMMAND (stdout and stderr) exits RC and prints PATTERN
# ("" : any output); a table row for the refusals of the CLI
exits_with() {
	local want=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	[ $rc = "$want" ] && { [ -z "$pat" ] || echo "$out" | grep -q -- "$pat"; } ||
		fail "$*: exit $rc, want $want with '$pat': $out"
}

# flows_start: two paced UDP flows from the sandbox, frames about 1 ms apart, in the background
# until flows_end stops them (60,000 frames at most): one the flow profiles allow
# (10.42.7.11:9000), one they deny (10.42.7.12:9000)
flows_start() {
	FLOW_ALLOWED=$(grep -c "udp from" "$LOGS/flow-allowed.log")
	FLOW_DENIED=$(grep -c "udp from" "$LOGS/flow-denied.log")
	ip netns exec "$SBX" "$BUILD/rawframe" sbx0 --dst-mac "$HOST_MAC" --src 10.42.0.2 --dst 10.42.7.11 \
		--proto udp --dport 9000 --sport 41000 --count 60000 --interval-us 1000 >"$WORK/flow1.sent" &
	FLOW_P1=$!
	ip netns exec "$SBX" "$BUILD/rawframe" sbx0 --dst-mac "$HOST_MAC" --src 10.42.0.2 --dst 10.42.7.12 \
		--proto udp --dport 9000 --sport 41001 --count 60000 --interval-us 1000 >"$WORK/flow2.sent" &
	FLOW_P2=$!
}

# flows_end DURING: the flows outlived what was done to them (else the test proves nothing) and
# are stopped; the allowed one lost none of the frames sent, the denied one leaked nothing
flows_end() {
	local allowed denied sent
	kill -0 "$FLOW_P1" 2>/dev/null || fail "the flow ended before the last switch: the test proves nothing" ||
		{ wait "$FLOW_P1" "$FLOW_P2"; return 1; }
	kill -TERM "$FLOW_P1" "$FLOW_P2" 2>/dev/null
	wait "$FLOW_P1" "$FLOW_P2"
	sleep 0.3
	sent=$(sed -n 's/^sent \([0-9]*\) frames.*/\1/p' "$WORK/flow1.sent")
	allowed=$(($(grep -c "udp from" "$LOGS/flow-allowed.log") - FLOW_ALLOWED))
	denied=$(($(grep -c "udp from" "$LOGS/flow-denied.log") - FLOW_DENIED))
	echo "    allowed flow got $allowed of $sent, denied flow got $denied"
	[ -n "$sent" ] && [ "$sent" -gt 100 ] || fail "the allowed flow sent ${sent:-nothing}: $(cat "$WORK/flow1.sent")" || return 1
	[ "$allowed" = "$sent" ] || fail "allowed flow lost $((sent - allowed)) of $sent datagrams $1"
	[ "$denied" = 0 ] || fail "denied flow leaked $denied datagrams $1"
}

# edit_step allow|revoke|reload: one live edit of the instance (a switch of generation)
edit_step() {
	case $1 in
	allow) "$BIN" allow --name "$INSTANCE" udp 10.42.7.20 port 7 >/dev/null ;;
	revoke) "$BIN" revoke --name "$INSTANCE" udp 10.42.7.20 port 7 >/dev/null ;;
	reload) "$BIN" reload --name "$INSTANCE" >/dev/null ;;
	esac
}

# resolver_ns_up NS CORP_DEV NS_DEV NET: namespace NS (removed with the test) joined to the
# corporate namespace by a veth, CORP_DEV NET.1/24 there and NS_DEV NET.53/24 in NS, whose
# default route goes through the corporate namespace (forwarding on): where a test's
# dnsmasq answers
resolver_ns_up() {
	local ns=$1 cdev=$2 ndev=$3 net=$4

	ip netns add "$ns" || return 1
	defer ip netns del "$ns"
	ip link add "$cdev" netns "$CORP" type veth peer name "$ndev" netns "$ns" || return 1
	ip -n "$CORP" addr add "$net.1/24" dev "$cdev"
	ip -n "$CORP" link set "$cdev" up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$net.53/24" dev "$ndev"
	ip -n "$ns" link set "$ndev" up
	ip -n "$ns" route add default via "$net.1"
	ip netns exec "$CORP" sysctl -qw net.ipv4.ip_forward=1
}

# dnsmasq_start NS ADDR CONF: Debian's dnsmasq in namespace NS on ADDR:53, answering only from
# CONF (no upstream, no hosts file), its queries logged to $LOGS/dnsmasq-ADDR.log; returns once
# it listens on ADDR (a background job of the test: it ends with the test)
dnsmasq_start() {
	local bound
	bound=$(printf '%02X%02X%02X%02X:0035' $(echo "$2" | tr . ' ' | awk '{print $4, $3, $2, $1}'))
	ip netns exec "$1" dnsmasq --keep-in-foreground --conf-file="$3" --no-resolv \
		--no-hosts --bind-interfaces --listen-address="$2" --port=53 --user=root \
		--pid-file= --log-facility="$LOGS/dnsmasq-$2.log" --log-queries &
	for _ in $(seq 40); do
		ip netns exec "$1" grep -q " $bound " /proc/net/udp && return 0
		sleep 0.05
	done
	fail "dnsmasq at $2 did not start"
}
