#!/usr/bin/env bash
# run.sh: end-to-end tests: namespaces, a veth, real sockets and AF_PACKET frames, the real CLI.
# Prints PASS/FAIL per test and "e2e: N passed, N failed". Cleans up on any exit.
set -u
BUILD=${1:-build}
BIN=$BUILD/ironclaw-pipe
NET_PREFIX=icpe2e$$
INSTANCE=e2e$$
. "$(dirname "$0")/../../tools/sandbox-net.sh"

PASSED=0
FAILED=0
LOGS=$(mktemp -d)
WORK=$(mktemp -d)

cleanup() {
	"$BIN" uninstall --name "$INSTANCE" >/dev/null 2>&1
	resolver_down
	net_down
	cgroups_down
	rm -rf "$LOGS" "$WORK"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ]; then
	echo "FAIL e2e: needs root (namespaces, BPF): run make test as root"
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi

fail() { echo "    $*"; return 1; }

run_test() {
	local name=$1 out
	if out=$("$name" 2>&1); then
		PASSED=$((PASSED + 1))
		echo "PASS $name"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $name"
		echo "$out" | sed 's/^/    /'
	fi
	"$BIN" uninstall --name "$INSTANCE" >/dev/null 2>&1
	resolver_down
	return 0
}

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
	expect_denied connect 10.42.7.11 8081 || return 1
	expect_denied connect 10.42.7.12 8080 || return 1
	expect_denied connect 203.0.113.9 443 || return 1
	expect_denied udp 10.42.0.99 53 || return 1
	expect_ok udp 10.42.0.53 53 || return 1
	expect_ok connect 203.0.113.1 443 || return 1
	expect_ok connect 198.51.100.42 443 || return 1
	[ "$(count no_rule)" -ge 4 ] || fail "no_rule counter $(count no_rule), want >= 4" || return 1
	# the 8080 rule, with the file and line it came from, counted what it let through
	"$BIN" rules --name "$INSTANCE" --json | grep -q '"stage":"internal","file":"'"$prof"'/30-internal.rules","line":3,"text":"allow tcp 10.42.7.11 port 8080 tool memscraper","packets":[1-9]' ||
		fail "rules --json: $("$BIN" rules --name "$INSTANCE" --json)"
}

test_scenario_host_side_tc_ingress() {
	install_ingress || return 1
	scenario_cases ingress
}

test_scenario_sandbox_tc_egress() {
	install_egress || return 1
	scenario_cases egress
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
	[ $((after - before)) = "$want" ] || fail "$reason went $before -> $after after rawframe $*, want +$want"
}

test_af_packet_frames_at_host_side() {
	install_ingress "$FLOW_PROFILE" || return 1
	local deny=(--src 10.42.0.2 --dst 10.42.7.12 --proto tcp --dport 8080 --count 5)
	raw_delta no_rule 5 "${deny[@]}" || return 1
	raw_delta no_rule 5 "${deny[@]}" --qdisc-bypass || return 1
	raw_delta spoofed_source 5 --src 10.42.0.77 --dst 10.42.7.11 --proto tcp --dport 8080 \
		--count 5 --qdisc-bypass || return 1
	raw_delta vlan 4 --src 10.42.0.2 --dst 10.42.7.11 --proto tcp --dport 8080 --count 4 \
		--vlan 5 --qdisc-bypass || return 1
	raw_delta truncated 3 --src 10.42.0.2 --dst 10.42.7.11 --proto tcp --dport 8080 --count 3 \
		--truncate 20 --qdisc-bypass || return 1
	raw_delta truncated 3 --src 10.42.0.2 --dst 10.42.7.11 --proto tcp --dport 8080 --count 3 \
		--truncate 44 --qdisc-bypass || return 1
	raw_delta rule 3 --src 10.42.0.2 --dst 10.42.7.11 --proto udp --dport 9000 --count 3 \
		--qdisc-bypass || return 1
	sleep 0.1
	[ "$(grep -c "udp from" "$LOGS/flow-allowed.log")" -ge 3 ] ||
		fail "the allowed raw datagrams did not reach the server"
}

# the in-sandbox hook is skipped by PACKET_QDISC_BYPASS: why host-side is recommended
test_qdisc_bypass_skips_sandbox_egress() {
	install_egress || return 1
	local deny=(--src 10.42.0.2 --dst 10.42.7.12 --proto udp --dport 9000 --count 5) got
	got=$(grep -c "udp from" "$LOGS/flow-denied.log")
	raw_delta no_rule 5 "${deny[@]}" || return 1
	[ "$(grep -c "udp from" "$LOGS/flow-denied.log")" = "$got" ] || fail "denied frames arrived"
	raw_delta no_rule 0 "${deny[@]}" --qdisc-bypass || return 1
	sleep 0.1
	[ "$(grep -c "udp from" "$LOGS/flow-denied.log")" = $((got + 5)) ] ||
		fail "frames sent with PACKET_QDISC_BYPASS did not arrive: the bypass was not shown"
}

# installs, live edits, reloads and a new version of a stage object, under two paced flows
test_install_over_install_during_flow() {
	local a=$WORK/prof-a b=$WORK/prof-b n=20000 allowed denied gens="" step
	local zero=(--src 10.42.0.2 --dst 10.42.7.11 --proto udp --dport 9000 --sport 0 --count 1)
	mkdir -p "$a" "$b"
	cp rules.d/*.rules "$a/"
	echo "allow udp 10.42.7.11 port 9000" >"$a/40-flow.rules"
	install -m 0644 "$BUILD/tests/stage_flow.bpf.o" "$a/45-flow.bpf.o"
	cp rules.d/*.rules "$b/"
	printf 'allow udp 10.42.7.11 port 9000\nallow tcp 10.42.7.20 port 5432\n' >"$b/40-flow.rules"
	install -m 0644 "$BUILD/tests/stage_flow_v2.bpf.o" "$b/45-flow.bpf.o"
	install_ingress "$a" || return 1
	# the flows go through the plug-in stage; version 1 lets source port 0 through
	raw_delta rule 1 "${zero[@]}" || return 1
	sleep 0.2
	allowed=$(grep -c "udp from" "$LOGS/flow-allowed.log")
	denied=$(grep -c "udp from" "$LOGS/flow-denied.log")
	# two paced flows of 20000 frames, ~1 ms apart, from inside the sandbox
	raw --src 10.42.0.2 --dst 10.42.7.11 --proto udp --dport 9000 --sport 41000 --count $n \
		--interval-us 1000 &
	local p1=$!
	raw --src 10.42.0.2 --dst 10.42.7.12 --proto udp --dport 9000 --sport 41001 --count $n \
		--interval-us 1000 &
	local p2=$!
	# every one a switch of generation; "install $b" and "new-stage" put version 2 of the
	# flow stage in, "install $a" version 1
	for step in "install $b" allow revoke reload "install $a" allow revoke new-stage; do
		case $step in
		install*) install_ingress "${step#install }" ;;
		allow) "$BIN" allow --name "$INSTANCE" udp 10.42.7.20 port 7 >/dev/null ;;
		revoke) "$BIN" revoke --name "$INSTANCE" udp 10.42.7.20 port 7 >/dev/null ;;
		reload) "$BIN" reload --name "$INSTANCE" >/dev/null ;;
		new-stage)
			install -m 0644 "$BUILD/tests/stage_flow_v2.bpf.o" "$a/45-flow.bpf.o" &&
				"$BIN" reload --name "$INSTANCE" >/dev/null
			;;
		esac || fail "$step failed" || return 1
		gens="$gens$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]' | cut -d: -f2)"
	done
	kill -0 $p1 2>/dev/null || fail "the flow ended before the last switch: the test proves nothing" ||
		{ wait $p1 $p2; return 1; }
	wait $p1 $p2
	sleep 0.3
	allowed=$(($(grep -c "udp from" "$LOGS/flow-allowed.log") - allowed))
	denied=$(($(grep -c "udp from" "$LOGS/flow-denied.log") - denied))
	echo "    generations seen: $gens; allowed flow got $allowed of $n, denied flow got $denied"
	[ "$gens" = 10101010 ] || fail "generation did not alternate: $gens"
	[ "$allowed" = $n ] || fail "allowed flow lost $((n - allowed)) of $n datagrams during 8 switches"
	[ "$denied" = 0 ] || fail "denied flow leaked $denied datagrams during installs"
	# version 2 of the stage judges now
	raw_delta malformed 1 "${zero[@]}" || fail "the new version of the flow stage is not in force"
}

install_xdp() {
	"$BIN" install --profile "$1" --xdp "host0@$CORP" --sandbox-netns "$SBX" --name "$INSTANCE" \
		"${@:2}" >/dev/null || fail "install at XDP failed"
}

# XDP on the host-side veth: the scenario's cases (the tool rule decided at tc ingress),
# the way it is attached, and nothing left after uninstall
test_scenario_at_xdp() {
	local p=$WORK/prof-xdp out
	mkdir -p "$p"
	cp rules.d/*.rules "$p/"
	out=$("$BIN" install --profile "$p" --xdp "host0@$CORP" --sandbox-netns "$SBX" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "XDP sees no socket, so no tool, and the profile has rules for tools: add --tc-ingress host0@$CORP" ||
		fail "XDP alone with a tool rule: $out" || return 1
	[ ! -e "/sys/fs/bpf/ironclaw/$INSTANCE" ] || fail "a refused install left pins" || return 1
	[ ! -e "/run/ironclaw-pipe/$INSTANCE" ] || fail "a refused install left its state and lock" || return 1
	ip -n "$CORP" link show host0 | grep -q ' xdp' && fail "a refused install left XDP attached" && return 1
	# someone else's XDP program on the interface: refused, named, nothing left
	ip -n "$CORP" link set dev host0 xdpdrv obj "$BUILD/progs/xdp_entry.bpf.o" sec xdp ||
		fail "cannot attach a foreign XDP program" || return 1
	out=$("$BIN" install --profile rules.d --xdp "host0@$CORP" --tc-ingress "host0@$CORP" \
		--sandbox-netns "$SBX" --sandbox-cgroup "$CG" --name "$INSTANCE" 2>&1)
	local rc=$?
	ip -n "$CORP" link set dev host0 xdpdrv off
	[ $rc = 1 ] && echo "$out" | grep -q "cannot attach at XDP of 'host0': another XDP program is attached there" ||
		fail "XDP taken: $out" || return 1
	[ ! -e "/sys/fs/bpf/ironclaw/$INSTANCE" ] || fail "a failed XDP attach left pins" || return 1
	! "$BIN" status --name "$INSTANCE" >/dev/null 2>&1 || fail "a failed XDP attach left an instance" || return 1
	install_xdp "$p" --tc-ingress "host0@$CORP" --sandbox-cgroup "$CG" || return 1
	"$BIN" status --name "$INSTANCE" | grep -Eq "^  xdp +host0 in netns $CORP: attached \(ifindex [0-9]+, libxdp (single program|dispatcher)" ||
		fail "status: $("$BIN" status --name "$INSTANCE")" || return 1
	"$BIN" log --name "$INSTANCE" >/dev/null 2>&1
	scenario_cases xdp "$p" || return 1
	[ "$(count tool_deferred)" -ge 1 ] || fail "the tool rule was not deferred to tc ingress" || return 1
	explain_is 0 memscraper tcp 10.42.7.11 8080 || return 1
	grep -q "^xdp         allow       tool_deferred   internal   $p/30-internal.rules:3: allow tcp 10.42.7.11 port 8080 tool memscraper$" "$WORK/explain.out" &&
		grep -q "^tc          allow       rule            internal   $p/30-internal.rules:3:" "$WORK/explain.out" ||
		fail "explain at XDP: $(cat "$WORK/explain.out")" || return 1
	explain_is 1 memscraper tcp 10.42.7.12 8080 || return 1
	grep -q "^xdp         deny        no_rule         internal   -$" "$WORK/explain.out" ||
		fail "explain at XDP: $(cat "$WORK/explain.out")" || return 1
	"$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep -q '"hook":"xdp".*"destination":"10.42.7.12:8080".*"reason":"no_rule"' ||
		fail "the denial was not made at XDP: $("$BIN" log --name "$INSTANCE" 2>&1 | tail -3)" || return 1
	# audit for one tool: XDP, which knows no tool, leaves the denial to tc ingress
	printf 'audit tool other\n' >"$p/05-audit.rules"
	install_xdp "$p" --tc-ingress "host0@$CORP" --sandbox-cgroup "$CG" 2>/dev/null || return 1
	out=$(tool_out other connect 10.42.7.12 8080 --timeout-ms 2000)
	[ "${out%% *}" = ok ] || fail "audit tool at XDP: $out" || return 1
	expect_denied connect 10.42.7.12 8080 || return 1
	rm "$p/05-audit.rules"
	# without tool rules, XDP alone
	echo "allow tcp 10.42.7.11 port 8080" >"$p/30-internal.rules"
	"$BIN" uninstall --name "$INSTANCE" >/dev/null
	ip -n "$CORP" link show host0 | grep -q ' xdp' && fail "uninstall left XDP attached" && return 1
	install_xdp "$p" || return 1
	expect_ok connect 10.42.7.11 8080 --timeout-ms 3000 || return 1
	expect_denied connect 10.42.7.11 8081 || return 1
	expect_denied udp 10.42.0.99 53 || return 1
	expect_ok udp 10.42.0.53 53 || return 1
	raw_delta spoofed_source 3 --src 10.42.0.77 --dst 10.42.7.11 --proto tcp --dport 8080 \
		--count 3 --qdisc-bypass || return 1
	# libxdp's directory in bpffs goes with the last XDP program (unless it was there before)
	"$BIN" uninstall --name "$INSTANCE" >/dev/null
	[ -n "$XDP_DIR_BEFORE" ] || [ ! -e /sys/fs/bpf/xdp ] || fail "/sys/fs/bpf/xdp left behind"
}

# reinstall, live edits and reload at XDP never detach: paced flows lose and leak nothing
test_xdp_switches_during_flow() {
	local n=6000 allowed denied step
	install_xdp "$FLOW_PROFILE_NO_TOOLS" || return 1
	allowed=$(grep -c "udp from" "$LOGS/flow-allowed.log")
	denied=$(grep -c "udp from" "$LOGS/flow-denied.log")
	raw --src 10.42.0.2 --dst 10.42.7.11 --proto udp --dport 9000 --sport 41000 --count $n \
		--interval-us 1000 &
	local p1=$!
	raw --src 10.42.0.2 --dst 10.42.7.12 --proto udp --dport 9000 --sport 41001 --count $n \
		--interval-us 1000 &
	local p2=$!
	for step in install allow revoke reload; do
		case $step in
		install) install_xdp "$FLOW_PROFILE_NO_TOOLS" ;;
		allow) "$BIN" allow --name "$INSTANCE" udp 10.42.7.20 port 7 >/dev/null ;;
		revoke) "$BIN" revoke --name "$INSTANCE" udp 10.42.7.20 port 7 >/dev/null ;;
		reload) "$BIN" reload --name "$INSTANCE" >/dev/null ;;
		esac || fail "$step failed" || return 1
	done
	kill -0 $p1 2>/dev/null || fail "the flow ended before the last switch: the test proves nothing" ||
		{ wait $p1 $p2; return 1; }
	wait $p1 $p2
	sleep 0.3
	allowed=$(($(grep -c "udp from" "$LOGS/flow-allowed.log") - allowed))
	denied=$(($(grep -c "udp from" "$LOGS/flow-denied.log") - denied))
	echo "    allowed flow got $allowed of $n, denied flow got $denied"
	[ "$allowed" = $n ] || fail "allowed flow lost $((n - allowed)) of $n datagrams during 4 switches at XDP"
	[ "$denied" = 0 ] || fail "denied flow leaked $denied datagrams at XDP"
}

test_uninstall_leaves_nothing() {
	install_ingress || return 1
	local ids link maps dispatcher
	ids=$("$BIN" status --name "$INSTANCE" --json | grep -o '"prog_id":[0-9]*' | cut -d: -f2)
	link=$("$BIN" status --name "$INSTANCE" --json | grep -o '"link_id":[0-9]*' | cut -d: -f2)
	[ -n "$ids" ] && [ -n "$link" ] || fail "status shows no programs or link"
	dispatcher=$(bpftool prog show pinned "/sys/fs/bpf/ironclaw/$INSTANCE/dispatch_tc" | grep -o '^[0-9]*')
	maps=$(for m in /sys/fs/bpf/ironclaw/"$INSTANCE"/*; do
		bpftool map show pinned "$m" 2>/dev/null | grep -o '^[0-9]*'
	done)
	[ -n "$dispatcher" ] && [ "$(echo "$maps" | wc -w)" -ge 9 ] || fail "pins not found: $dispatcher / $maps"
	"$BIN" uninstall --name "$INSTANCE" | grep -q "no longer filtered" || fail "uninstall message"
	[ ! -e "/sys/fs/bpf/ironclaw/$INSTANCE" ] || fail "pins left in /sys/fs/bpf/ironclaw/$INSTANCE"
	for id in $ids; do
		! bpftool prog show id "$id" >/dev/null 2>&1 || fail "stage program $id still loaded"
	done
	! bpftool link show id "$link" >/dev/null 2>&1 || fail "tcx link $link still exists"
	! bpftool prog show id "$dispatcher" >/dev/null 2>&1 || fail "dispatcher $dispatcher still loaded"
	for id in $maps; do
		! bpftool map show id "$id" >/dev/null 2>&1 || fail "map $id still exists"
	done
	[ ! -e "/run/ironclaw-pipe/$INSTANCE" ] || fail "state, rule list or lock left"
	expect_ok connect 10.42.7.11 8081 --timeout-ms 2000 || fail "egress still filtered after uninstall"
}

test_plugin_stage() {
	local p=$WORK/prof-pg
	mkdir -p "$p"
	cp rules.d/*.rules "$p/"
	install -m 0644 "$BUILD/examples/stage_postgres.bpf.o" "$p/50-postgres.bpf.o"
	echo "allow tcp 10.42.7.20 port 5432" >"$p/50-postgres.rules"
	install_ingress || return 1
	expect_denied connect 10.42.7.20 5432 || return 1
	"$BIN" check --profile "$p" | grep -q "50-postgres.rules:1: allow tcp 10.42.7.20 port 5432" ||
		fail "check does not list the postgres rule"
	install_ingress "$p" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q "slot 8  postgres" || fail "status shows no postgres stage in slot 8"
	expect_ok connect 10.42.7.20 5432 || return 1
	expect_denied connect 10.42.7.21 5432 || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	# installing again needs no attach options: the cgroup and sources are the instance's
	"$BIN" install --profile "$p" --name "$INSTANCE" >/dev/null || fail "plain install again" || return 1
	expect_ok connect 10.42.7.20 5432 || return 1
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

test_bad_stages_refused() {
	local p=$WORK/prof-bad
	mkdir -p "$p"
	cp rules.d/*.rules "$p/"
	install -m 0644 "$BUILD/examples/stage_postgres.bpf.o" "$p/50-postgres.bpf.o"
	install -m 0644 "$BUILD/tests/stage_pgdup.bpf.o" "$p/60-pgdup.bpf.o"
	expect_refused "$p" "$p/60-pgdup.bpf.o: stage 'pgdup' claims tcp/5432, already claimed by stage 'postgres' ($p/50-postgres.bpf.o)" || return 1
	rm "$p/60-pgdup.bpf.o"
	install -m 0644 "$BUILD/examples/stage_postgres.bpf.o" "$p/70-again.bpf.o"
	expect_refused "$p" "stage name 'postgres' is already taken" || return 1
	rm "$p/70-again.bpf.o"
	chmod 0666 "$p/50-postgres.bpf.o"
	expect_refused "$p" "50-postgres.bpf.o: stage object is writable by others: refused" || return 1
	chmod 0644 "$p/50-postgres.bpf.o"
	chown 65534 "$p/50-postgres.bpf.o"
	expect_refused "$p" "owned by uid 65534, not root: refused" || return 1
	[ ! -e "/sys/fs/bpf/ironclaw/$INSTANCE" ] || fail "a refused install left pins"
}

test_bad_profile_keeps_running_policy() {
	local p=$WORK/prof-typo gen out
	install_ingress || return 1
	gen=$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]')
	mkdir -p "$p"
	cp rules.d/*.rules "$p/"
	printf 'allow tcp 10.42.7.12 port 8080\nallow tcp 10.42.7.12 port 70000\n' >"$p/40-typo.rules"
	expect_refused "$p" "$p/40-typo.rules:2: port '70000' out of range (1-65535)" || return 1
	[ "$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]')" = "$gen" ] ||
		fail "generation changed after a refused profile"
	expect_ok connect 10.42.7.11 8080 || return 1
	expect_denied connect 10.42.7.12 8080 || return 1
	# a failure after the new generation is filled and the links moved: all rolled back
	echo "allow tcp 10.42.7.12 port 8080" >"$p/40-typo.rules"
	out=$("$BIN" install --profile "$p" --tc-ingress "host0@$CORP" --tc-ingress "nope0@$CORP" \
		--sandbox-netns "$SBX" --sandbox-cgroup "$CG" --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "no interface 'nope0'" || fail "attach failure: $out"
	[ "$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]')" = "$gen" ] ||
		fail "generation changed after a failed attach"
	"$BIN" status --name "$INSTANCE" --json | grep -q '"entries":1}' ||
		fail "the internal stage should still hold one entry"
	expect_ok connect 10.42.7.11 8080 || return 1
	expect_denied connect 10.42.7.12 8080 || return 1
}

test_block_then_install() {
	install_ingress || return 1
	"$BIN" block --name "$INSTANCE" >/dev/null || fail "block failed"
	"$BIN" status --name "$INSTANCE" | grep -q BLOCKED || fail "status does not say BLOCKED"
	expect_denied connect 10.42.7.11 8080 || return 1
	[ "$(count blocked)" -ge 1 ] || fail "blocked counter did not move"
	install_ingress || return 1
	expect_ok connect 10.42.7.11 8080
}

test_cli_errors() {
	local out rc
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN" install --profile rules.d \
		--tc-ingress host0 2>&1)
	rc=$?
	[ $rc = 1 ] && echo "$out" | grep -q "must run as root" || fail "non-root: rc $rc: $out"
	out=$("$BIN" install --profile rules.d --tc-ingress nope0 --source 10.42.0.2 \
		--sandbox-cgroup "$CG" --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "no interface 'nope0'" || fail "no such interface: $out"
	out=$("$BIN" install --profile rules.d --tc "sbx0@nosuchns$$" --sandbox-cgroup "$CG" \
		--name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "no network namespace 'nosuchns$$'" || fail "no such netns: $out"
	out=$("$BIN" install --profile rules.d --tc-ingress "host0@$CORP" --sandbox-cgroup "$CG" \
		--name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "give --source ADDR or --sandbox-netns" ||
		fail "unknown sandbox addresses: $out"
	out=$("$BIN" install --bogus 2>&1)
	[ $? = 2 ] || fail "unknown option should exit 2: $out"
	out=$("$BIN" install --profile rules.d --tc-ingress host0 --source 10.42.0.300 2>&1)
	[ $? = 2 ] && echo "$out" | grep -q "bad --source address '10.42.0.300'" || fail "bad source: $out"
	out=$("$BIN" check --profile "$WORK/no-such-dir" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "cannot read profile directory" || fail "missing dir: $out"
	out=$("$BIN" status --name "nosuch$$" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "no instance 'nosuch$$'" || fail "status of nothing: $out"
	for c in block reload; do
		out=$("$BIN" $c --name "nosuch$$" 2>&1)
		[ $? = 1 ] && echo "$out" | grep -q "no instance 'nosuch$$'" || fail "$c of nothing: $out" || return 1
	done
	[ ! -e "/run/ironclaw-pipe/nosuch$$" ] || fail "a command on no instance left a lock file" || return 1
	"$BIN" uninstall --help | grep -q "OPENS the sandbox's egress" || fail "uninstall help lacks the warning"
	# check --json: the plan, or the errors with file and line
	out=$("$BIN" check --profile rules.d --json 2>&1)
	[ $? = 0 ] && echo "$out" | grep -q '^{"profile":"rules.d","valid":true,' &&
		echo "$out" | grep -q '{"file":"rules.d/30-internal.rules","line":3,"text":"allow tcp 10.42.7.11 port 8080 tool memscraper","protocol":"tcp","destination":"10.42.7.11","port_from":8080,"port_to":8080,"tool":"memscraper","host":null}' ||
		fail "check --json: $out" || return 1
	mkdir -p "$WORK/prof-bad-json"
	printf 'allow tcp 10.42.7.11 port 8080\nallow tcp "x port 1\n' >"$WORK/prof-bad-json/10-a.rules"
	out=$("$BIN" check --profile "$WORK/prof-bad-json" --json 2>/dev/null)
	[ $? = 1 ] && echo "$out" | grep -q '"valid":false,.*"errors":\[{"file":"[^"]*/10-a.rules","line":2,"message":"[^"]*\\"x[^"]*"}\]' ||
		fail "check --json with an error: $out" || return 1
	for c in check install status rules log suggest explain reload allow revoke block uninstall; do
		"$BIN" "$c" --help | grep -q "^usage: ironclaw-pipe $c" || fail "$c --help" || return 1
	done
	"$BIN" --help | grep -q "^  rules " || fail "the command list lacks rules"
	# the man page names every command the binary has
	for c in $("$BIN" --help | awk '/^  [a-z]/ {print $1}'); do
		grep -Eq "^\.BI? \"?$c[ \"]" docs/ironclaw-pipe.8 || fail "the man page lacks $c" || return 1
	done
	[ ! -e "/sys/fs/bpf/ironclaw/$INSTANCE" ] || fail "a failed install left pins"
}

# a sandbox created again is not covered until the pipeline is attached again
test_status_notices_lost_attachment() {
	local rc
	install_egress || return 1
	"$BIN" status --name "$INSTANCE" >/dev/null || fail "status not 0 while attached"
	ip -n "$SBX" link del sbx0
	ip link add sbx0 netns "$SBX" type veth peer name host0 netns "$CORP"
	ip -n "$SBX" addr add 10.42.0.2/24 dev sbx0
	ip -n "$SBX" link set sbx0 up
	ip -n "$SBX" route add default via 10.42.0.1
	for a in 10.42.0.1/24 10.42.0.53/24 10.42.0.99/24; do ip -n "$CORP" addr add "$a" dev host0; done
	ip -n "$CORP" link set host0 up
	"$BIN" status --name "$INSTANCE" | grep -q "LOST" || fail "status does not report the lost attachment"
	"$BIN" status --name "$INSTANCE" >/dev/null
	rc=$?
	[ $rc = 3 ] || fail "status exit $rc with a lost attachment, want 3"
	install_egress || return 1
	"$BIN" status --name "$INSTANCE" >/dev/null || fail "status not 0 after attaching again"
	sleep 1 # the new link needs ARP again
	expect_ok connect 10.42.7.11 8080 --timeout-ms 3000 || return 1
	expect_denied connect 10.42.7.12 8080
}

CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CG=$CGROOT/icpe2e$$

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

# the 8080 rule for memscraper alone, enforced at the host side (no cgroup hooks)
test_per_tool_rules_at_host_side() {
	local p=$WORK/prof-tools out
	[ -n "$CGROOT" ] || fail "no cgroup v2 mount" || return 1
	mkdir -p "$CG/memscraper/nested" "$CG/other" "$p"
	cp rules.d/10-dns.rules rules.d/20-https.rules "$p/"
	echo "allow tcp 10.42.7.11 port 8080 tool memscraper" >"$p/30-internal.rules"
	"$BIN" install --profile "$p" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" >/dev/null || fail "install with tools failed" || return 1
	"$BIN" check --profile "$p" --sandbox-cgroup "$CG" | grep -q "allow tcp 10.42.7.11 port 8080 tool memscraper" ||
		fail "check does not show the tool"
	out=$(tool_out memscraper connect 10.42.7.11 8080 --post from-memscraper)
	[ "${out%% *}" = ok ] || fail "memscraper's POST: $out" || return 1
	out=$(tool_out memscraper/nested connect 10.42.7.11 8080 --timeout-ms 2000)
	[ "${out%% *}" = ok ] || fail "a process nested below memscraper should be memscraper: $out" || return 1
	for t in other ""; do
		out=$(tool_out "$t" connect 10.42.7.11 8080 --timeout-ms 800)
		case $out in "fail "*ETIMEDOUT) ;; *) fail "tool '${t:-(sandbox root)}' reached the collector: $out" ;; esac || return 1
	done
	out=$(tool_out memscraper connect 10.42.7.11 8081 --timeout-ms 800)
	case $out in "fail "*ETIMEDOUT) ;; *) fail "memscraper reached 8081: $out" ;; esac || return 1
	out=$(tool_out memscraper connect 10.42.7.12 8080 --timeout-ms 800)
	case $out in "fail "*ETIMEDOUT) ;; *) fail "memscraper reached 10.42.7.12: $out" ;; esac || return 1
	# rules without a tool still hold for every process
	out=$(tool_out other udp 10.42.0.53 53)
	[ "${out%% *}" = ok ] || fail "DNS from 'other': $out"
}

test_bad_tools_refused() {
	local p=$WORK/prof-badtool out
	mkdir -p "$CG/memscraper" "$p"
	echo "allow tcp 10.42.7.11 port 8080 tool ghost" >"$p/30-internal.rules"
	out=$("$BIN" install --profile "$p" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "30-internal.rules:1: tool 'ghost': no cgroup $CG/ghost" ||
		fail "missing tool cgroup: $out" || return 1
	echo "allow tcp 10.42.7.11 port 8080 tool ../memscraper" >"$p/30-internal.rules"
	out=$("$BIN" check --profile "$p" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "30-internal.rules:1: bad tool '../memscraper'" ||
		fail "path as tool: $out" || return 1
	echo "allow tcp 10.42.7.11 port 8080 tool memscraper" >"$p/30-internal.rules"
	out=$("$BIN" install --profile "$p" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "30-internal.rules:1: rule names tool 'memscraper': give the sandbox's cgroup" ||
		fail "tool without --sandbox-cgroup: $out" || return 1
	out=$("$BIN" install --profile "$p" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--sandbox-cgroup "$CG/nope" --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "sandbox cgroup '$CG/nope'" || fail "missing sandbox cgroup: $out" || return 1
	[ ! -e "/sys/fs/bpf/ironclaw/$INSTANCE" ] || fail "a refused install left pins"
}

TOOLS_PROFILE=$WORK/prof-tools-cg

install_cgroup() {
	"$BIN" install --profile "$TOOLS_PROFILE" --cgroup "$CG" --sandbox-netns "$SBX" \
		--name "$INSTANCE" "$@" >/dev/null || fail "install at the cgroup hooks failed"
}

# want_eperm TOOL PROBE-ARGS...: the call fails at once with EPERM
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

test_tools_at_the_cgroup_hooks() {
	install_cgroup || return 1
	want_ok memscraper connect 10.42.7.11 8080 --post from-cgroup-mode || return 1
	sleep 0.1
	grep -q "body=from-cgroup-mode" "$LOGS/collector.log" || fail "collector got nothing" || return 1
	want_eperm other connect 10.42.7.11 8080 || return 1
	want_eperm "" connect 10.42.7.11 8080 || return 1
	want_eperm memscraper connect 10.42.7.11 8081 || return 1
	want_eperm memscraper connect 10.42.7.12 8080 || return 1
	want_ok memscraper/nested connect 10.42.7.11 8080 || return 1
	# UDP: sendto() to a denied destination, and to the resolver
	want_eperm other udp 10.42.0.99 53 --unconnected || return 1
	want_ok other udp 10.42.0.53 53 --unconnected || return 1
	want_eperm other udp 10.42.0.99 53 || return 1
	# an IPv4-mapped IPv6 destination is judged as the IPv4 address it maps to
	want_eperm other connect ::ffff:10.42.7.11 8080 || return 1
	want_ok memscraper connect ::ffff:10.42.7.11 8080
}

# a tool cgroup removed and created again has a new id: denied until the next install
test_tool_cgroup_created_again() {
	install_cgroup || return 1
	want_ok memscraper/nested connect 10.42.7.11 8080 || return 1
	rmdir "$CG/memscraper/nested" "$CG/memscraper" || fail "cannot remove the tool's cgroup" || return 1
	mkdir -p "$CG/memscraper/nested"
	want_eperm memscraper connect 10.42.7.11 8080 || return 1
	install_cgroup || return 1
	want_ok memscraper connect 10.42.7.11 8080
}

# moving TOOL TARGET ARGS...: netprobe in TOOL with fd 7 open on TARGET's cgroup.procs
# (opened before ip netns exec, which hides /sys/fs/cgroup)
moving() {
	local dir=$CG/$1 target=$CG/$2/cgroup.procs
	shift 2
	sh -c 'echo $$ > "$1/cgroup.procs" && exec 7>"$2" && shift 2 && exec ip netns exec "$@"' \
		sh "$dir" "$target" "$SBX" "$BUILD/netprobe" "$@" --move-fd 7 --timeout-ms 2000 2>/dev/null
}

# sockets keep the cgroup they were created in
test_socket_keeps_its_tool() {
	local out
	install_cgroup || return 1
	out=$(moving other memscraper connect 10.42.7.11 8080)
	[ "${out%% *}" = ok ] || fail "moved from other into memscraper, then socket: $out" || return 1
	out=$(moving other memscraper connect 10.42.7.11 8080 --move-after-socket)
	case $out in "fail "*EPERM) ;; *) fail "socket in other, then moved: $out" ;; esac || return 1
	# and the reverse
	out=$(moving memscraper other connect 10.42.7.11 8080 --move-after-socket)
	[ "${out%% *}" = ok ] || fail "socket in memscraper, then moved to other: $out" || return 1
	out=$(moving memscraper other connect 10.42.7.11 8080)
	case $out in "fail "*EPERM) ;; *) fail "moved into other, then socket: $out" ;; esac
}

# held TOOL PROBE-ARGS...: a probe whose socket is made now and used once a file exists
held() {
	local t=$1
	shift
	tool_out "$t" "$@" --timeout-ms 8000
}

# the packets of a socket connected before the install are judged at cgroup_skb
test_cgroup_skb_judges_every_packet() {
	local go=$WORK/go-skb out1 out2 out3 p1 p2 p3
	rm -f "$go"
	held other udp 10.42.7.12 9000 --wait-before-send "$go" >"$WORK/held1" &
	p1=$!
	held other udp 10.42.0.53 53 --wait-before-send "$go" >"$WORK/held2" &
	p2=$!
	held memscraper connect 10.42.7.11 8080 --wait-before-connect "$go" >"$WORK/held3" &
	p3=$!
	sleep 0.5
	install_cgroup || { touch "$go"; wait $p1 $p2 $p3; return 1; }
	touch "$go"
	wait $p1 $p2 $p3
	out1=$(cat "$WORK/held1") out2=$(cat "$WORK/held2") out3=$(cat "$WORK/held3")
	case $out1 in "fail "*EPERM) ;; *) fail "send() on a socket connected before the install: $out1" ;; esac || return 1
	[ "${out2%% *}" = ok ] || fail "send() to the resolver on an older socket: $out2" || return 1
	# made before the install: no tool recorded, so no tool's rights (fail closed)
	case $out3 in "fail "*EPERM) ;; *) fail "memscraper socket made before the install: $out3" ;; esac
}

# a program below our cgroup cannot widen the policy, whether attached multi or override
test_child_cgroup_cannot_widen() {
	local pins=/sys/fs/bpf/icpe2e-allow$$ mode rc=0 go out p
	install_cgroup || return 1
	bpftool prog loadall "$BUILD/tests/allow_all.bpf.o" "$pins" || fail "loading allow_all" || return 1
	for mode in multi override; do
		go=$WORK/go-$mode
		rm -f "$go"
		held other udp 10.42.7.12 9000 --wait-before-send "$go" >"$WORK/held-$mode" &
		p=$!
		sleep 0.3
		bpftool cgroup attach "$CG/other" connect4 pinned "$pins/allow_connect4" $mode ||
			{ fail "attaching allow_connect4 ($mode)"; rc=1; }
		bpftool cgroup attach "$CG/other" egress pinned "$pins/allow_egress" $mode ||
			{ fail "attaching allow_egress ($mode)"; rc=1; }
		want_eperm other connect 10.42.7.11 8080 || rc=1
		touch "$go"
		wait $p
		out=$(cat "$WORK/held-$mode")
		case $out in "fail "*EPERM) ;; *) fail "egress widened by a $mode program: $out"; rc=1 ;; esac
		bpftool cgroup detach "$CG/other" connect4 pinned "$pins/allow_connect4"
		bpftool cgroup detach "$CG/other" egress pinned "$pins/allow_egress"
	done
	rm -rf "$pins"
	return $rc
}

# what the user's "Connection refused" may have been: a connect hook can answer ECONNREFUSED
test_a_connect_hook_can_say_refused() {
	local pins=/sys/fs/bpf/icpe2e-refuse$$ out
	bpftool prog loadall "$BUILD/tests/allow_all.bpf.o" "$pins" || fail "loading" || return 1
	bpftool cgroup attach "$CG/other" connect4 pinned "$pins/refuse_connect4" multi
	out=$(tool_out other connect 10.42.7.11 8080 --timeout-ms 2000)
	bpftool cgroup detach "$CG/other" connect4 pinned "$pins/refuse_connect4"
	rm -rf "$pins"
	case $out in "fail "*ECONNREFUSED) ;; *) fail "want ECONNREFUSED, got: $out" ;; esac
}

# traffic to the sandbox itself (loopback, its own address) is allowed at both cgroup hooks
test_loopback_at_the_cgroup_hooks() {
	local before addr port=7000 srv
	install_cgroup || return 1
	for addr in 127.0.0.1 ::1 10.42.0.2; do
		port=$((port + 1))
		sbx "$BUILD/netprobe" serve tcp "$addr" $port --count 1 --timeout-ms 5000 >/dev/null 2>&1 &
		srv=$!
		sleep 0.2
		before=$(count loopback)
		want_ok other connect "$addr" $port || { kill $srv 2>/dev/null; return 1; }
		wait $srv
		# the connect hook and at least the SYN, the ACK and the FIN at cgroup_skb
		[ "$(count loopback)" -ge $((before + 4)) ] ||
			fail "$addr: loopback counted $before -> $(count loopback): packets not judged" ||
			return 1
	done
}

# host-side tc and the cgroup hooks together: one policy, one set of rule maps
test_modes_combine() {
	install_cgroup --tc-ingress "host0@$CORP" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q "tc_ingress" || fail "no tc attachment" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q "cgroup_egress" || fail "no cgroup attachment" || return 1
	[ "$("$BIN" status --name "$INSTANCE" --json | grep -o '"entries":[0-9]*' | tr '\n' ' ')" = '"entries":2 "entries":2 "entries":1 ' ] ||
		fail "rule entries: $("$BIN" status --name "$INSTANCE" --json | grep -o '"entries":[0-9]*')" || return 1
	want_ok memscraper connect 10.42.7.11 8080 || return 1
	want_eperm other connect 10.42.7.11 8080 || return 1
	# behind the cgroup hooks, a frame no socket hook sees is judged at host-side tc
	raw_delta no_rule 3 --src 10.42.0.2 --dst 10.42.7.12 --proto tcp --dport 8080 --count 3 \
		--qdisc-bypass
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

# explain runs the installed pipeline dry: it agrees with real traffic and records nothing
test_explain() {
	local c before after out want
	install_cgroup --tc-ingress "host0@$CORP" || return 1
	"$BIN" log --name "$INSTANCE" >/dev/null 2>&1
	explain_is 0 memscraper tcp 10.42.7.11 8080 || return 1
	grep -q "^tc          allow       rule            internal   $TOOLS_PROFILE/30-internal.rules:1: allow tcp 10.42.7.11 port 8080 tool memscraper$" "$WORK/explain.out" &&
		grep -q "^cgroup_skb  allow       rule            internal   $TOOLS_PROFILE/30-internal.rules:1:" "$WORK/explain.out" ||
		fail "explain output: $(cat "$WORK/explain.out")" || return 1
	out=$("$BIN" explain --name "$INSTANCE" --json udp 10.42.0.99 53)
	[ $? = 1 ] && echo "$out" | grep -q '"verdict":"deny","hooks":\[{"hook":"tc","verdict":"deny","reason":"no_rule","stage":"dns","rule":null}' ||
		fail "explain --json: $out" || return 1
	before=$("$BIN" rules --name "$INSTANCE" --json; count no_rule; count rule)
	# tool (- for none), packet, and what the policy says: 0 allow, 1 deny
	local cases=("memscraper tcp 10.42.7.11 8080 0" "other tcp 10.42.7.11 8080 1"
		"- tcp 10.42.7.11 8080 1" "memscraper tcp 10.42.7.11 8081 1"
		"memscraper tcp 10.42.7.12 8080 1" "other udp 10.42.0.53 53 0"
		"other udp 10.42.0.99 53 1" "memscraper tcp 203.0.113.1 443 0"
		"memscraper tcp 203.0.113.9 443 1" "memscraper tcp fd00:7::11 8080 1")
	for c in "${cases[@]}"; do
		set -- $c
		explain_is "$5" "$1" "$2" "$3" "$4" || return 1
	done
	after=$("$BIN" rules --name "$INSTANCE" --json; count no_rule; count rule)
	[ "$before" = "$after" ] || fail "explain changed counters: $before -> $after" || return 1
	! "$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep -q '"reason":"no_rule"' ||
		fail "explain left deny events" || return 1
	# the same packets from the tools' sockets
	for c in "${cases[@]}"; do
		set -- $c
		want=want_ok
		[ "$5" = 1 ] && want=want_eperm
		[ "$2" = tcp ] && set -- "$1" connect "$3" "$4" || set -- "$1" udp "$3" "$4"
		"$want" "${1#-}" "$2" "$3" "$4" || fail "real traffic disagrees with explain" || return 1
	done
	# errors: exit 2
	explain_is 2 nosuch tcp 10.42.7.11 8080 || return 1
	grep -q "no tool 'nosuch': $CG/nosuch is not a directory" "$WORK/explain.out" || fail "$(cat "$WORK/explain.out")" || return 1
	explain_is 2 - tcp 10.42.7.11 || return 1
	explain_is 2 - sctp 10.42.7.11 80 || return 1
	explain_is 2 - tcp 10.42.7.0/24 80 || return 1
	out=$("$BIN" explain --name nosuch tcp 10.42.7.11 80 2>&1)
	[ $? = 2 ] && echo "$out" | grep -q "no instance 'nosuch' installed" || fail "explain of no instance: $out" || return 1
	# a stage object changed on disk but not installed: explain refuses to guess
	local p=$WORK/prof-explain
	mkdir -p "$p"
	cp "$TOOLS_PROFILE"/*.rules "$p/"
	echo "allow udp 10.42.7.11 port 9000" >"$p/40-flow.rules"
	install -m 0644 "$BUILD/tests/stage_flow.bpf.o" "$p/45-flow.bpf.o"
	install_ingress "$p" || return 1
	explain_is 0 - udp 10.42.7.11 9000 || return 1
	grep -q "^tc          allow       rule            flow       $p/40-flow.rules:1:" "$WORK/explain.out" ||
		fail "$(cat "$WORK/explain.out")" || return 1
	install -m 0644 "$BUILD/tests/stage_flow_v2.bpf.o" "$p/45-flow.bpf.o"
	explain_is 2 - udp 10.42.7.11 9000 || return 1
	grep -q "stage 'flow' differs from the one instance '$INSTANCE' runs: reload or install it first" "$WORK/explain.out" ||
		fail "$(cat "$WORK/explain.out")" || return 1
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload" || return 1
	explain_is 0 - udp 10.42.7.11 9000
}

# allow/revoke change the running policy through a live drop-in; reload keeps them
# packets rule_packets FILE-SUFFIX TEXT: what `rules --json` says that rule let through
rule_packets() {
	"$BIN" rules --name "$INSTANCE" --json | grep -o "$1\",\"line\":[0-9]*,\"text\":\"$2\",\"packets\":[0-9]*" |
		grep -o '[0-9]*$'
}

test_live_edits() {
	local out gen live=/run/ironclaw-pipe/$INSTANCE/live.d/90-live.rules before after
	install_ingress || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	before=$(rule_packets 30-internal.rules "allow tcp 10.42.7.11 port 8080 tool memscraper")
	[ "${before:-0}" -ge 3 ] || fail "the 8080 rule counted ${before:-nothing}" || return 1
	expect_denied connect 10.42.7.12 8080 || return 1
	out=$("$BIN" allow --name "$INSTANCE" tcp 10.42.7.12 port 8080 2>&1) || fail "allow: $out" || return 1
	# a switch keeps what the rules that stay counted
	after=$(rule_packets 30-internal.rules "allow tcp 10.42.7.11 port 8080 tool memscraper")
	[ "${after:-0}" -ge "$before" ] || fail "the 8080 rule went from $before to ${after:-nothing} packets across allow" || return 1
	expect_ok connect 10.42.7.12 8080 || return 1
	"$BIN" rules --name "$INSTANCE" | grep -q "$live:1: allow tcp 10.42.7.12 port 8080" ||
		fail "rules does not show the live rule" || return 1
	gen=$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]')
	out=$("$BIN" allow --name "$INSTANCE" tcp 10.42.7.12 port 70000 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "command line:1: port '70000' out of range" ||
		fail "bad allow: $out" || return 1
	out=$("$BIN" allow --name "$INSTANCE" tcp 10.42.7.12 port 8080 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "$live:2: duplicate of $live:1" ||
		fail "duplicate allow: $out" || return 1
	[ "$(wc -l <"$live")" = 1 ] || fail "a refused allow changed the drop-in" || return 1
	[ "$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]')" = "$gen" ] ||
		fail "a refused allow switched the policy" || return 1
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload" || return 1
	expect_ok connect 10.42.7.12 8080 || fail "reload lost the live rule" || return 1
	out=$("$BIN" revoke --name "$INSTANCE" tcp 10.42.7.11 port 8080 tool memscraper 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "was not added with allow" || fail "revoke of a profile rule: $out" || return 1
	"$BIN" revoke --name "$INSTANCE" tcp 10.42.7.12 port 8080 >/dev/null || fail "revoke" || return 1
	expect_denied connect 10.42.7.12 8080 || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	# a live edit of a blocked instance leaves it blocked; revoke knows the rule however spelled
	"$BIN" block --name "$INSTANCE" >/dev/null
	"$BIN" allow --name "$INSTANCE" tcp 10.42.7.12 port 8081 >/dev/null || fail "allow while blocked" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q BLOCKED || fail "allow lifted the block" || return 1
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload while blocked" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q BLOCKED || fail "reload lifted the block" || return 1
	"$BIN" revoke --name "$INSTANCE" tcp 10.42.7.12/32 port 8081 >/dev/null ||
		fail "revoke of 10.42.7.12/32 did not find 10.42.7.12" || return 1
	[ ! -s "$live" ] || fail "the drop-in still holds: $(cat "$live")" || return 1
	"$BIN" uninstall --name "$INSTANCE" >/dev/null
	[ ! -e "/run/ironclaw-pipe/$INSTANCE" ] || fail "uninstall left the live drop-in"
}

# every denial reaches 'log' with its reason; one reader at a time; floods are rate-limited
test_deny_log() {
	local out f
	install_cgroup --tc-ingress "host0@$CORP" || return 1
	"$BIN" log --name "$INSTANCE" >/dev/null 2>&1 # start from an empty buffer
	want_eperm other connect 10.42.7.11 8080 || return 1
	raw --src 10.42.0.77 --dst 10.42.7.11 --proto tcp --dport 8080 --count 2 || return 1
	sleep 0.2
	out=$("$BIN" log --name "$INSTANCE" --json 2>/dev/null)
	echo "$out" | grep -q '"instance":"'"$INSTANCE"'","hook":"connect4","cgroup":"/icpe2e'$$'/other","tool":"/icpe2e'$$'/other","pid":[1-9][0-9]*,"comm":"netprobe".*"destination":"10.42.7.11:8080","stage":"internal","reason":"no_rule","verdict":"deny"' ||
		fail "no connect4 event for other's denied connect: $out" || return 1
	echo "$out" | grep -q '"hook":"tc".*"source":"10.42.0.77:0".*"reason":"spoofed_source"' ||
		fail "no tc event for the spoofed frames: $out" || return 1
	# the sandbox names its own commands: they are escaped, not trusted
	cp "$BUILD/netprobe" "$WORK/q\"x\\y"
	in_tool other "$WORK/q\"x\\y" connect 10.42.7.12 8080 --timeout-ms 1000 >/dev/null 2>&1
	out=$("$BIN" log --name "$INSTANCE" --json 2>/dev/null)
	echo "$out" | grep -qF '"comm":"q\"x\\y"' || fail "comm not escaped in JSON: $out" || return 1
	"$BIN" log --name "$INSTANCE" --follow >"$WORK/follow" 2>&1 &
	f=$!
	sleep 0.3
	out=$("$BIN" log --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "another 'ironclaw-pipe log' or 'suggest' is reading" ||
		{ kill -INT $f; wait $f; fail "a second reader was not refused: $out"; return 1; }
	raw --src 10.42.0.2 --dst 10.42.7.12 --proto udp --dport 9 --count 600 || return 1
	sleep 0.3
	kill -INT $f
	wait $f || fail "log --follow did not end cleanly on Ctrl-C" || return 1
	grep -q "no_rule" "$WORK/follow" || fail "--follow printed no event" || return 1
	"$BIN" status --name "$INSTANCE" --json | grep -q '"rate_limited":[1-9]' ||
		fail "600 denials in a burst were not rate-limited: $("$BIN" status --name "$INSTANCE" --json | grep -o '"events_dropped[^}]*')"
}

# audit mode lets denials through, recorded as would-deny; block still blocks
test_audit_mode() {
	local p=$WORK/prof-audit out
	install_cgroup --tc-ingress "host0@$CORP" --audit || return 1
	"$BIN" log --name "$INSTANCE" >/dev/null 2>&1
	"$BIN" status --name "$INSTANCE" | grep -q "AUDIT MODE: everything the policy denies PASSES" ||
		fail "status does not show audit mode" || return 1
	want_ok other connect 10.42.7.11 8080 || return 1
	explain_is 0 other tcp 10.42.7.11 8080 || return 1
	grep -q "^tc          would_deny  no_rule         internal   -" "$WORK/explain.out" ||
		fail "explain in audit mode: $(cat "$WORK/explain.out")" || return 1
	"$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep -q '"destination":"10.42.7.11:8080".*"reason":"no_rule","verdict":"would-deny"' ||
		fail "no would-deny event" || return 1
	[ "$(count would_deny)" -ge 1 ] || fail "would_deny not counted" || return 1
	# suggest turns what audit let through into lines that check accepts, and that allow it
	want_ok other connect 10.42.7.11 8080 || return 1
	want_ok other connect 10.42.7.11 8080 || return 1
	"$BIN" suggest --name "$INSTANCE" >"$WORK/suggested" 2>/dev/null || fail "suggest" || return 1
	grep -q "^allow tcp 10.42.7.11 port 8080 tool other  # [1-9][0-9]* would-deny$" "$WORK/suggested" ||
		fail "suggest: $(cat "$WORK/suggested")" || return 1
	mkdir -p "$p"
	cp "$TOOLS_PROFILE"/*.rules "$p/"
	grep "10.42.7.11 port 8080 tool other" "$WORK/suggested" >"$p/60-suggested.rules"
	"$BIN" check --profile "$p" --sandbox-cgroup "$CG" >/dev/null || fail "check refuses suggest's lines" || return 1
	"$BIN" install --profile "$p" --cgroup "$CG" --sandbox-netns "$SBX" --name "$INSTANCE" \
		>/dev/null 2>&1 || fail "install of the suggested profile" || return 1
	want_ok other connect 10.42.7.11 8080 || fail "the suggested rule does not allow it" || return 1
	rm -f "$p/60-suggested.rules"
	"$BIN" block --name "$INSTANCE" >/dev/null
	want_eperm other connect 10.42.7.11 8080 || fail "audit let a blocked instance through" || return 1
	install_cgroup --tc-ingress "host0@$CORP" || return 1
	want_eperm other connect 10.42.7.11 8080 || return 1
	# audit for one tool, and for one stage
	mkdir -p "$p"
	cp "$TOOLS_PROFILE"/*.rules "$p/"
	printf 'audit tool other\naudit stage https\n' >"$p/05-audit.rules"
	"$BIN" install --profile "$p" --cgroup "$CG" --sandbox-netns "$SBX" --name "$INSTANCE" \
		>/dev/null 2>&1 || fail "install with audit lines" || return 1
	want_ok other connect 10.42.7.11 8080 || return 1
	want_ok memscraper connect 203.0.113.9 443 || return 1
	want_eperm memscraper connect 10.42.7.12 8080 || return 1
	printf 'audit stage nosuch\n' >"$p/05-audit.rules"
	out=$("$BIN" check --profile "$p" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "05-audit.rules:1: audit names stage 'nosuch'" ||
		fail "unknown audited stage: $out" || return 1
	printf 'audit tool ghost\n' >"$p/05-audit.rules"
	out=$("$BIN" install --profile "$p" --cgroup "$CG" --sandbox-netns "$SBX" --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "05-audit.rules:1: tool 'ghost': no cgroup" ||
		fail "unknown audited tool: $out"
}

# IPv6 end to end: neighbour discovery passes, the v6 hooks (connect6, sendmsg6) judge
test_ipv6_end_to_end() {
	local p=$WORK/prof-v6 out
	mkdir -p "$p"
	cp "$TOOLS_PROFILE"/*.rules "$p/"
	echo "allow tcp fd00:7::11 port 8080 tool memscraper" >"$p/40-v6.rules"
	"$BIN" install --profile "$p" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" >/dev/null || fail "install" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q "fd00:42::2" || fail "fd00:42::2 not a source" || return 1
	want_ok memscraper connect fd00:7::11 8080 --post v6-at-tc --timeout-ms 4000 || return 1
	out=$(tool_out memscraper connect fd00:7::11 8081 --timeout-ms 800)
	case $out in "fail "*ETIMEDOUT) ;; *) fail "v6 to 8081 at tc: $out" ;; esac || return 1
	[ "$(count nd)" -ge 1 ] || fail "no neighbour discovery was counted" || return 1
	"$BIN" install --profile "$p" --cgroup "$CG" --sandbox-netns "$SBX" --name "$INSTANCE" \
		>/dev/null || fail "install at the cgroup hooks" || return 1
	want_ok memscraper connect fd00:7::11 8080 --post v6-at-cgroup || return 1
	want_eperm other connect fd00:7::11 8080 || return 1
	want_eperm memscraper connect fd00:7::11 8081 || return 1
	want_eperm other udp fd00:7::11 9 --unconnected
}

# dns_out TOOL ARGS...: dnsprobe query to the resolver, as a process of TOOL
dns_out() {
	local t=$1
	shift
	in_tool "$t" "$BUILD/dnsprobe" query 10.42.0.53 "$@" 2>/dev/null
}

dns_ok() {
	local t=$1 out
	shift
	out=$(dns_out "$t" "$@") || fail "tool '$t' query $*: want a reply, got: $out"
}

# dns_denied WANT TOOL ARGS...: the query fails with WANT (ETIMEDOUT at tc, EPERM at the cgroup)
dns_denied() {
	local want=$1 t=$2 out
	shift 2
	out=$(dns_out "$t" "$@" --timeout-ms 500)
	case $out in
	"fail "*"$want replies 0/"*) ;;
	*) fail "tool '$t' query $*: want $want, got: $out" ;;
	esac
}

DNS_PROFILE=$WORK/prof-dns

# 'allow dns' lines: only allowed names reach the resolver, TCP DNS is denied (host-side tc)
test_dns_names_at_host_side() {
	local c out
	install_ingress "$TOOLS_PROFILE" || return 1
	# without name rules: any name, and TCP (refused: nothing listens on tcp/53, so the SYN got there)
	dns_ok other attacker.example --type 16 || return 1
	out=$(dns_out other attacker.example --tcp --timeout-ms 1000)
	case $out in "fail "*ECONNREFUSED*) ;; *) fail "TCP DNS without name rules: $out" ;; esac || return 1
	install_ingress "$DNS_PROFILE" || return 1
	dns_ok other log-collector.internal.corp || return 1
	dns_ok other LOG-Collector.Internal.CORP || return 1
	dns_ok other a.b.internal.corp --type 28 || return 1
	dns_ok memscraper update.example || return 1
	dns_denied ETIMEDOUT other update.example || return 1
	dns_denied ETIMEDOUT other evilinternal.corp || return 1
	dns_denied ETIMEDOUT other internal.corp || return 1
	dns_denied ETIMEDOUT other log-collector.internal.corp --type 16 || return 1
	dns_denied ETIMEDOUT other log-collector.internal.corp --questions 2 || return 1
	dns_denied ETIMEDOUT other log-collector.internal.corp --questions 2 --compress || return 1
	dns_denied ETIMEDOUT other log-collector.internal.corp --compress || return 1
	dns_denied ETIMEDOUT other x.internal.corp --random-labels 4 --label-len 63 || return 1
	dns_denied ETIMEDOUT other log-collector.internal.corp --tcp || return 1
	for c in qname dns_qtype dns_qdcount dns_compression dns_name_len dns_tcp; do
		[ "$(count "$c")" -ge 1 ] || fail "reason $c was not counted" || return 1
	done
	# explain carries the question, and agrees
	explain_is 0 other udp 10.42.0.53 53 query LOG-Collector.Internal.CORP || return 1
	grep -q "^tc          allow       rule            dns        $DNS_PROFILE/15-names.rules:1: allow dns log-collector.internal.corp$" "$WORK/explain.out" ||
		fail "$(cat "$WORK/explain.out")" || return 1
	explain_is 0 other udp 10.42.0.53 53 query a.b.internal.corp AAAA || return 1
	grep -q "^tc          allow       rule            dns        $DNS_PROFILE/15-names.rules:2: allow dns \*.internal.corp$" "$WORK/explain.out" ||
		fail "$(cat "$WORK/explain.out")" || return 1
	explain_is 1 other udp 10.42.0.53 53 query evilinternal.corp || return 1
	grep -q "^tc          deny        qname           dns        -$" "$WORK/explain.out" || fail "$(cat "$WORK/explain.out")" || return 1
	explain_is 1 other udp 10.42.0.53 53 query log-collector.internal.corp TXT || return 1
	grep -q "^tc          deny        dns_qtype " "$WORK/explain.out" || fail "$(cat "$WORK/explain.out")" || return 1
	explain_is 1 other udp 10.42.0.53 53 || return 1
	grep -q "^tc          deny        dns_malformed " "$WORK/explain.out" || fail "$(cat "$WORK/explain.out")" || return 1
	# a tunnel's pattern: fresh long random labels below a suffix no rule allows
	c=$(count qname)
	out=$(dns_out other t.attacker.example --random-labels 3 --label-len 50 --count 20 --timeout-ms 200)
	case $out in "fail "*"replies 0/20") ;; *) fail "tunnelling queries: $out" ;; esac || return 1
	[ "$(count qname)" -ge $((c + 20)) ] || fail "qname went $c -> $(count qname), want +20" || return 1
	# rules lists the names with what they let through; check shows them
	"$BIN" rules --name "$INSTANCE" --json | grep -q '"stage":"dns","file":"'"$DNS_PROFILE"'/15-names.rules","line":2,"text":"allow dns \*.internal.corp","packets":[1-9]' ||
		fail "rules --json: $("$BIN" rules --name "$INSTANCE" --json)" || return 1
	"$BIN" check --profile "$DNS_PROFILE" | grep -q "^  query types: A AAAA CNAME PTR SRV (the default)" ||
		fail "check: $("$BIN" check --profile "$DNS_PROFILE")" || return 1
	"$BIN" check --profile "$DNS_PROFILE" --json | grep -q '"dns_names":\[.*{"file":"'"$DNS_PROFILE"'/15-names.rules","line":2,"text":"allow dns \*.internal.corp","name":"internal.corp","wildcard":true,"tool":null}.*\],"dns_qtypes":\[1,28,5,12,33\]' ||
		fail "check --json: $("$BIN" check --profile "$DNS_PROFILE" --json)"
}

# at the cgroup hooks: sendto() to the resolver passes, cgroup_skb judges the name (EPERM)
test_dns_names_at_cgroup_hooks() {
	local out
	"$BIN" install --profile "$DNS_PROFILE" --cgroup "$CG" --sandbox-netns "$SBX" \
		--name "$INSTANCE" >/dev/null || fail "install at the cgroup hooks" || return 1
	dns_ok other log-collector.internal.corp || return 1
	dns_ok memscraper update.example || return 1
	dns_denied EPERM other update.example || return 1
	dns_denied EPERM other evilinternal.corp || return 1
	dns_denied EPERM other log-collector.internal.corp --type 255 || return 1
	# TCP DNS fails at connect(), at once
	out=$(dns_out other log-collector.internal.corp --tcp --timeout-ms 2000)
	case $out in "fail "*EPERM*) ;; *) fail "TCP DNS at the connect hook: $out" ;; esac || return 1
	"$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep -q '"hook":"cgroup_skb".*"destination":"10.42.0.53:53","stage":"dns","reason":"qname"' ||
		fail "no qname event in the log"
}

# allow and revoke take 'allow dns' lines too; revoke knows the line however spelled
test_dns_live_edits() {
	local out
	install_ingress "$DNS_PROFILE" || return 1
	dns_denied ETIMEDOUT other x.attacker.example || return 1
	out=$("$BIN" allow --name "$INSTANCE" dns '*.attacker.example' 2>&1) || fail "allow dns: $out" || return 1
	dns_ok other x.attacker.example || return 1
	dns_denied ETIMEDOUT other attacker.example || return 1
	out=$("$BIN" revoke --name "$INSTANCE" dns 'x.attacker.example' 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "was not added with allow" || fail "revoke of another name: $out" || return 1
	"$BIN" revoke --name "$INSTANCE" dns '*.ATTACKER.example.' >/dev/null || fail "revoke dns" || return 1
	dns_denied ETIMEDOUT other x.attacker.example
}

# a profile whose name rules are wrong is refused whole, naming file:line
test_dns_bad_names_refused() {
	local p=$WORK/prof-dns-bad out
	mkdir -p "$p"
	cp "$DNS_PROFILE"/*.rules "$p/"
	echo "allow dns evil!.corp" >"$p/16-bad.rules"
	out=$("$BIN" check --profile "$p" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "16-bad.rules:1: bad name 'evil!.corp'" || fail "bad name: $out" || return 1
	printf 'dns qtype A TXT\ndns qtype A\n' >"$p/16-bad.rules"
	out=$("$BIN" check --profile "$p" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "16-bad.rules:2: query types already set at $p/16-bad.rules:1" ||
		fail "two qtype lines: $out"
}

# host names that follow DNS: a resolver of our own (dnsprobe serve) at 10.42.0.54 with 2 s TTLs
LEARN_PROFILE=$WORK/prof-learn
LEARN_PIDS=()

# learn_count EVENT: what became of the answers the learning program saw (status --json)
learn_count() {
	"$BIN" status --name "$INSTANCE" --json | grep -o "\"$1\":[0-9][0-9]*" | head -1 | grep -o '[0-9]*$'
}

# resolver ARGS...: (re)starts the test resolver at 10.42.0.54 with these answers
resolver() {
	local p
	for p in "${LEARN_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	LEARN_PIDS=()
	ip netns exec "$CORP" "$BUILD/dnsprobe" serve 10.42.0.54 --ttl 2 --timeout-ms 60000 "$@" \
		>>"$LOGS/learn-resolver.log" 2>&1 &
	LEARN_PIDS+=($!)
	for _ in $(seq 40); do
		ip netns exec "$CORP" sh -c 'grep -q "36002A0A:0035" /proc/net/udp' && return 0
		sleep 0.05
	done
	fail "the test resolver did not start"
}

resolver_down() {
	local p
	for p in "${LEARN_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	LEARN_PIDS=()
}

# learn_delta EVENT N COMMAND...: runs it, then EVENT must have moved by exactly N
learn_delta() {
	local ev=$1 want=$2 before after
	shift 2
	before=$(learn_count "$ev")
	"$@" >/dev/null 2>&1
	sleep 0.2
	after=$(learn_count "$ev")
	[ $((after - before)) = "$want" ] || fail "answers $ev went $before -> $after after $*, want +$want"
}

lookup() { in_tool memscraper "$BUILD/dnsprobe" query 10.42.0.54 "$@" 2>/dev/null; }

# 'allow tcp name ...': reachable after the lookup, not before; forged, spoofed and unasked
# answers ignored (over loopback not even seen); TTL + grace ends new connections, not the
# one opened in time; a changed address (through a CNAME) followed
test_names_follow_dns_at_host_side() {
	local out held pend
	install_ingress "$LEARN_PROFILE" || return 1
	expect_denied connect 10.42.7.11 8080 || return 1
	[ "$(count no_rule)" -ge 1 ] || fail "the connection before the lookup was not no_rule" || return 1
	# an answer to a query never sent: from the resolver's address, to a port nobody asked from
	learn_delta no_query 1 ip netns exec "$CORP" "$BUILD/dnsprobe" forge 10.42.0.54 10.42.0.2 \
		40053 log-collector.internal.corp 10.42.7.12 || return 1
	# a query goes out, but nothing answers yet (the resolver is down): it waits
	out=$(lookup log-collector.internal.corp --sport 40054 --timeout-ms 300)
	case $out in "fail "*ETIMEDOUT*) ;; *) fail "a query with no resolver: $out" ;; esac || return 1
	pend=$(bpftool map dump pinned "/sys/fs/bpf/ironclaw/$INSTANCE/learn_pending" | grep -c '"key"\|^key')
	[ "$pend" -ge 1 ] || fail "the query is not waiting for its answer" || return 1
	# its answer spoofed from a host that is no resolver
	learn_delta not_resolver 1 ip netns exec "$CORP" "$BUILD/dnsprobe" forge 10.42.0.99 \
		10.42.0.2 40054 log-collector.internal.corp 10.42.7.12 || return 1
	# forged inside the sandbox, from the resolver's address, over loopback: never seen
	for ev in learned not_resolver no_query question malformed; do
		learn_delta "$ev" 0 sbx "$BUILD/dnsprobe" forge 10.42.0.54 10.42.0.2 40054 \
			log-collector.internal.corp 10.42.7.12 || return 1
	done
	expect_denied connect 10.42.7.12 8080 || return 1
	# the real lookup: learned, reachable
	resolver --answer log-collector.internal.corp=10.42.7.11 || return 1
	out=$(lookup log-collector.internal.corp) || fail "lookup: $out" || return 1
	[ "$(learn_count learned)" -ge 1 ] || fail "nothing learned: $("$BIN" status --name "$INSTANCE")" || return 1
	expect_ok connect 10.42.7.11 8080 --post learned || return 1
	"$BIN" rules --name "$INSTANCE" | grep -Eq "^ +learned 10.42.7.11 \(ttl 2, [0-9.]+ s left\)" ||
		fail "rules: $("$BIN" rules --name "$INSTANCE")" || return 1
	"$BIN" rules --name "$INSTANCE" --json | grep -q '"text":"allow tcp name log-collector.internal.corp port 8080","packets":[1-9][0-9]*,"bytes":[0-9]*,"learned":\[{"address":"10.42.7.11","ttl":2,"left_ms":[0-9]*}\]' ||
		fail "rules --json: $("$BIN" rules --name "$INSTANCE" --json)" || return 1
	"$BIN" status --name "$INSTANCE" | grep -Eq "^  log-collector.internal.corp +10.42.7.11 +ttl 2" ||
		fail "status: $("$BIN" status --name "$INSTANCE")" || return 1
	# a connection opened now lives on past TTL 2 + grace 1; new ones after it are refused
	probe connect 10.42.7.11 8080 --post held-open --trickle-ms 4000 --timeout-ms 8000 >"$WORK/held-learn" &
	held=$!
	sleep 3.6
	expect_denied connect 10.42.7.11 8080 || { wait $held; return 1; }
	[ "$(count name_expired)" -ge 1 ] || fail "the late connection was not name_expired" || { wait $held; return 1; }
	wait $held
	out=$(cat "$WORK/held-learn")
	case $out in "ok "*"HTTP/1.1 200 OK") ;; *) fail "the connection opened in time: $out" ;; esac || return 1
	[ "$(count flow)" -ge 1 ] || fail "no packet counted as flow" || return 1
	grep -q "body=held-open" "$LOGS/collector.log" || fail "the held POST did not arrive" || return 1
	# a transaction id that is not the query's: ignored
	resolver --answer log-collector.internal.corp=10.42.7.11 --wrong-id || return 1
	learn_delta no_query 1 lookup log-collector.internal.corp --timeout-ms 300 || return 1
	expect_denied connect 10.42.7.11 8080 || return 1
	# the name moves (through a CNAME) to another address: followed
	resolver --cname log-collector.internal.corp=lc.pool.internal.corp \
		--answer lc.pool.internal.corp=10.42.7.12 || return 1
	out=$(lookup log-collector.internal.corp) || fail "lookup: $out" || return 1
	expect_ok connect 10.42.7.12 8080 || return 1
	expect_denied connect 10.42.7.11 8080
}

# in-sandbox tc: the answers are learned at tc ingress of the sandbox's own interface
test_names_follow_dns_in_sandbox() {
	local out
	install_egress "$LEARN_PROFILE" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q "^  learn_ingress sbx0 in netns $SBX: attached" ||
		fail "status: $("$BIN" status --name "$INSTANCE")" || return 1
	resolver --answer log-collector.internal.corp=10.42.7.11 || return 1
	expect_denied connect 10.42.7.11 8080 || return 1
	out=$(lookup log-collector.internal.corp) || fail "lookup: $out" || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	# a reload keeps what was learned
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload" || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	# a name rule as a live edit: allowed once looked up, revoked however spelled
	expect_denied connect 10.42.7.11 8081 || return 1
	out=$("$BIN" allow --name "$INSTANCE" tcp name log-collector.internal.corp port 8081 2>&1) ||
		fail "allow tcp name: $out" || return 1
	out=$(lookup log-collector.internal.corp) || fail "lookup: $out" || return 1
	expect_ok connect 10.42.7.11 8081 || return 1
	"$BIN" revoke --name "$INSTANCE" tcp name LOG-Collector.internal.corp. port 8081 >/dev/null ||
		fail "revoke tcp name" || return 1
	expect_denied connect 10.42.7.11 8081 || return 1
	# a host-side point added: answers are learned there only, not from inside the sandbox
	"$BIN" install --profile "$LEARN_PROFILE" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--name "$INSTANCE" >/dev/null || fail "install with a host-side point" || return 1
	out=$("$BIN" status --name "$INSTANCE")
	! echo "$out" | grep -q "^  learn_ingress" && echo "$out" | grep -q "^  learn_egress  host0 in netns $CORP: attached" ||
		fail "learning hooks: $out"
}

# name rules: refused with file:line when wrong, and where nothing could learn
test_name_rules_refused() {
	local p=$WORK/prof-learn-bad out
	mkdir -p "$p"
	cp "$LEARN_PROFILE"/*.rules "$p/"
	echo "allow tcp name *.internal.corp port 8080" >"$p/40-bad.rules"
	out=$("$BIN" check --profile "$p" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "40-bad.rules:1: bad host name '\*.internal.corp': a name rule follows one host name, not a wildcard" ||
		fail "wildcard name rule: $out" || return 1
	printf 'dns learn grace 1\n' >"$p/40-bad.rules"
	out=$("$BIN" check --profile "$p" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "40-bad.rules:1: learning already set at $p/15-learn.rules:2" ||
		fail "two learn lines: $out" || return 1
	rm "$p/40-bad.rules"
	out=$("$BIN" install --profile "$p" --cgroup "$CG" --sandbox-netns "$SBX" --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "15-learn.rules:1: name rules learn the resolver's answers at tc on the sandbox's link: give --tc-ingress IFACE or --tc IFACE" ||
		fail "name rules with the cgroup hooks alone: $out" || return 1
	"$BIN" check --profile "$p" | grep -q "^  grace 1 s, max-ttl 3600 s, max-addresses 16$" ||
		fail "check: $("$BIN" check --profile "$p")"
}

cgroups_down() {
	[ -d "$CG" ] || return 0
	find "$CG" -depth -type d -exec rmdir {} \; 2>/dev/null
}

net_up || { echo "e2e: cannot create namespaces"; echo "e2e: 0 passed, 1 failed"; exit 1; }
net_services "$LOGS"
mkdir -p "$CG/memscraper/nested" "$CG/other" "$TOOLS_PROFILE"
cp rules.d/10-dns.rules rules.d/20-https.rules "$TOOLS_PROFILE/"
echo "allow tcp 10.42.7.11 port 8080 tool memscraper" >"$TOOLS_PROFILE/30-internal.rules"
mkdir -p "$DNS_PROFILE"
cp "$TOOLS_PROFILE"/*.rules "$DNS_PROFILE/"
printf 'allow dns log-collector.internal.corp\nallow dns *.internal.corp\nallow dns update.example tool memscraper\n' \
	>"$DNS_PROFILE/15-names.rules"
mkdir -p "$LEARN_PROFILE"
echo "allow udp 10.42.0.54 port 53" >"$LEARN_PROFILE/10-dns.rules"
printf 'allow tcp name log-collector.internal.corp port 8080\ndns learn grace 1\n' >"$LEARN_PROFILE/15-learn.rules"
ip -n "$CORP" addr add 10.42.0.54/24 dev host0
FLOW_PROFILE=$WORK/prof-flow
mkdir -p "$FLOW_PROFILE"
cp rules.d/*.rules "$FLOW_PROFILE/"
echo "allow udp 10.42.7.11 port 9000" >"$FLOW_PROFILE/40-flow.rules"
XDP_DIR_BEFORE=$([ -e /sys/fs/bpf/xdp ] && echo yes)
FLOW_PROFILE_NO_TOOLS=$WORK/prof-flow-no-tools
mkdir -p "$FLOW_PROFILE_NO_TOOLS"
cp rules.d/10-dns.rules rules.d/20-https.rules "$FLOW_PROFILE/40-flow.rules" "$FLOW_PROFILE_NO_TOOLS/"
HOST_MAC=$(ip -n "$CORP" link show host0 | awk '/ether/ {print $2}')

# E2E_ONLY="test_a test_b": just those (while working on them)
ALL_TESTS="test_scenario_host_side_tc_ingress test_scenario_sandbox_tc_egress \
	test_af_packet_frames_at_host_side test_qdisc_bypass_skips_sandbox_egress \
	test_install_over_install_during_flow test_uninstall_leaves_nothing test_plugin_stage \
	test_bad_stages_refused test_bad_profile_keeps_running_policy test_block_then_install \
	test_cli_errors test_per_tool_rules_at_host_side test_bad_tools_refused \
	test_tools_at_the_cgroup_hooks test_socket_keeps_its_tool test_child_cgroup_cannot_widen \
	test_tool_cgroup_created_again test_a_connect_hook_can_say_refused \
	test_cgroup_skb_judges_every_packet test_ipv6_end_to_end test_live_edits test_deny_log \
	test_audit_mode test_explain \
	test_loopback_at_the_cgroup_hooks test_modes_combine \
	test_dns_names_at_host_side test_dns_names_at_cgroup_hooks test_dns_bad_names_refused \
	test_dns_live_edits test_names_follow_dns_at_host_side test_names_follow_dns_in_sandbox \
	test_name_rules_refused \
	test_status_notices_lost_attachment test_scenario_at_xdp test_xdp_switches_during_flow"
for t in ${E2E_ONLY:-$ALL_TESTS}; do
	run_test "$t"
done
echo "e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
