# t_names.sh: host names that follow DNS ('allow tcp name ...'): a resolver of our own
# (dnsprobe serve) at 10.42.0.54 with 2 s TTLs; what is learned, what is ignored (forged, spoofed,
# unasked answers), expiry, CNAMEs, at host-side tc only (t_dns_id.sh: the ids); name rules refused.

area names "learn_profile" "" \
	test_names_follow_dns_at_host_side test_names_learned_at_host_side_only test_name_rules_refused \
	test_names_suggest_name_rule

# the resolver's address, and a profile whose one TCP rule is a name
LEARN_PROFILE=$WORK/prof-learn
fixture_learn_profile() {
	mkdir -p "$LEARN_PROFILE"
	echo "allow udp 10.42.0.54 port 53" >"$LEARN_PROFILE/10-dns.rules"
	printf 'allow tcp name log-collector.internal.corp port 8080\ndns learn grace 1\n' >"$LEARN_PROFILE/15-learn.rules"
	ip -n "$CORP" addr add 10.42.0.54/24 dev host0
}

LEARN_PIDS=()

# learn_count EVENT: what became of the answers the learning program saw (status --json)
learn_count() {
	"$BIN" status --name "$INSTANCE" --json | grep -o "\"$1\":[0-9][0-9]*" | head -1 | grep -o '[0-9]*$'
}

# resolver ARGS...: (re)starts the test resolver at 10.42.0.54 with these answers (a background
# job of the test: it goes when the test ends)
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
	pend=$(bpftool map dump pinned "$PIN_DIR/learn_pending" | grep -c '"key"\|^key')
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
	# a transaction id that is not the query's: forged, and the query discarded
	resolver --answer log-collector.internal.corp=10.42.7.11 --wrong-id || return 1
	learn_delta wrong_id 1 lookup log-collector.internal.corp --timeout-ms 300 || return 1
	expect_denied connect 10.42.7.11 8080 || return 1
	sleep 1 # learning stops for the second after a forgery
	# the name moves (through a CNAME) to another address: followed
	resolver --cname log-collector.internal.corp=lc.pool.internal.corp \
		--answer lc.pool.internal.corp=10.42.7.12 || return 1
	out=$(lookup log-collector.internal.corp) || fail "lookup: $out" || return 1
	expect_ok connect 10.42.7.12 8080 || return 1
	expect_denied connect 10.42.7.11 8080
}

# the sandbox's own tc cannot learn (it would see the rewritten ids): name rules there are refused;
# at host-side tc a reload keeps what was learned, and name rules come and go as live edits
test_names_learned_at_host_side_only() {
	local out
	out=$("$BIN" install --profile "$LEARN_PROFILE" --tc "sbx0@$SBX" --sandbox-cgroup "$CG" \
		--name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "15-learn.rules:1: name rules learn the resolver's answers only at host-side tc, where each query's id is rewritten out of the sandbox's sight: give --tc-ingress IFACE (--cgroup, --xdp and --tc alone do not learn)" ||
		fail "name rules with the sandbox's tc alone: $out" || return 1
	"$BIN" install --profile "$LEARN_PROFILE" --tc-ingress "host0@$CORP" --tc "sbx0@$SBX" \
		--sandbox-netns "$SBX" --sandbox-cgroup "$CG" --name "$INSTANCE" >/dev/null ||
		fail "install at both tc points" || return 1
	out=$("$BIN" status --name "$INSTANCE")
	! echo "$out" | grep -q "^  learn_ingress" && echo "$out" | grep -q "^  learn_egress  host0 in netns $CORP: attached" ||
		fail "learning hooks: $out" || return 1
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
	expect_denied connect 10.42.7.11 8081
}

# name rules: refused with file:line when wrong, and where nothing could learn
test_name_rules_refused() {
	local p=$WORK/prof-learn-bad out
	mkdir -p "$p"
	cp "$LEARN_PROFILE"/*.rules "$p/"
	echo "allow tcp name a.*.internal.corp port 8080" >"$p/40-bad.rules"
	out=$("$BIN" check --profile "$p" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "40-bad.rules:1: bad host name 'a.\*.internal.corp': '\*' is only a whole first label ('\*.SUFFIX')" ||
		fail "wildcard name rule: $out" || return 1
	# a stage that does not follow names would allow nothing for it: refused
	install -m 0644 "$BUILD/tests/stage_flow.bpf.o" "$p/40-flow.bpf.o"
	echo "allow udp name log-collector.internal.corp port 9000" >"$p/40-bad.rules"
	out=$("$BIN" check --profile "$p" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "40-bad.rules:1: udp port 9000 goes to stage 'flow', which does not follow names" ||
		fail "name rule to a stage that does not follow names: $out" || return 1
	rm "$p/40-flow.bpf.o"
	printf 'dns learn grace 1\n' >"$p/40-bad.rules"
	out=$("$BIN" check --profile "$p" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "40-bad.rules:1: learning already set at $p/15-learn.rules:2" ||
		fail "two learn lines: $out" || return 1
	rm "$p/40-bad.rules"
	out=$("$BIN" install --profile "$p" --cgroup "$CG" --sandbox-netns "$SBX" --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "15-learn.rules:1: name rules learn the resolver's answers only at host-side tc, where each query's id is rewritten out of the sandbox's sight: give --tc-ingress IFACE (--cgroup, --xdp and --tc alone do not learn)" ||
		fail "name rules with the cgroup hooks alone: $out" || return 1
	"$BIN" check --profile "$p" | grep -q "^  grace 1 s, max-ttl 3600 s, max-addresses 64, max-total 16384, rate 16 a second$" ||
		fail "check: $("$BIN" check --profile "$p")"
}

# audit mode: a connection to an address learned for a name, on a port no rule of the name has,
# is suggested as a name rule ('allow tcp name HOST port P'), which check accepts with the profile
test_names_suggest_name_rule() {
	local out p=$WORK/prof-learn-suggest
	"$BIN" install --profile "$LEARN_PROFILE" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" --audit >/dev/null || fail "install --audit" || return 1
	"$BIN" log --name "$INSTANCE" >/dev/null 2>&1 # start from an empty buffer
	resolver --answer log-collector.internal.corp=10.42.7.11 || return 1
	out=$(lookup log-collector.internal.corp) || fail "lookup: $out" || return 1
	probe connect 10.42.7.11 9090 --timeout-ms 300 >/dev/null
	probe connect 10.42.7.11 8080 >/dev/null
	# within the TTL (2 s): the reader names the learned address as it reads
	out=$("$BIN" suggest --name "$INSTANCE" 2>/dev/null)
	echo "$out" | grep -q '^allow tcp name log-collector.internal.corp port 9090\( tool memscraper\)\?  # [1-9][0-9]* would-deny$' ||
		fail "suggest: $out" || return 1
	echo "$out" | grep -q '^allow tcp 10.42.7.11' && fail "suggest gave the address, not the name: $out" && return 1
	mkdir -p "$p"
	cp "$LEARN_PROFILE"/*.rules "$p/"
	echo "$out" >"$p/90-suggested.rules"
	out=$("$BIN" check --profile "$p" --sandbox-cgroup "$CG" 2>&1) ||
		fail "check refuses the profile with suggest's lines: $out"
}
