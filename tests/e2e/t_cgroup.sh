# t_cgroup.sh: the cgroup hooks (connect, sendmsg, cgroup_skb): every packet of an older socket is
# judged, programs below cannot widen the policy, loopback passes (the sandbox's own addresses, not
# its subnet), host-side tc combines with them, IPv6 end to end.

area cgroup "tools_profile" "" \
	test_cgroup_skb_judges_every_packet test_child_cgroup_cannot_widen \
	test_a_connect_hook_can_say_refused test_loopback_at_the_cgroup_hooks \
	test_the_subnet_is_not_the_sandbox test_modes_combine test_ipv6_end_to_end

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
	local pins=${TEST_PINS}allow mode rc=0 go out p
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
	local pins=${TEST_PINS}refuse out
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

# the sandbox's subnet is not the sandbox: installing again with a source prefix is refused and
# changes nothing, so only the sandbox's own address is local at the cgroup hooks, and a connect
# to a neighbour, or a DNS query for a name not allowed to a resolver in the subnet, is denied
test_the_subnet_is_not_the_sandbox() {
	local p=$WORK/prof-subnet out rc gen
	mkdir -p "$p"
	cp "$TOOLS_PROFILE"/*.rules "$p/"
	echo "allow dns log-collector.internal.corp" >"$p/15-names.rules"
	"$BIN" install --profile "$p" --cgroup "$CG" --sandbox-netns "$SBX" --name "$INSTANCE" \
		>/dev/null || fail "install at the cgroup hooks" || return 1
	out=$("$BIN" install --profile "$p" --cgroup "$CG" --source 10.42.0.0/24 \
		--name "$INSTANCE" 2>&1)
	rc=$?
	[ $rc = 2 ] && echo "$out" | grep -q -- "--source 10.42.0.0/24: a source is one address" ||
		fail "install with --source 10.42.0.0/24: exit $rc, want 2 and a refusal: $out"
	out=$("$BIN" status --name "$INSTANCE" | grep '^sources:')
	case "$out " in *" 10.42.0.2 "*) ;; *) fail "10.42.0.2 is no longer a source: $out" ;; esac
	case $out in *10.42.0.0*) fail "the sources changed: $out" ;; esac
	# the host side of the veth, a resolver for a name not allowed, the rogue resolver
	want_eperm other connect 10.42.0.1 22
	out=$(in_tool other "$BUILD/dnsprobe" query 10.42.0.53 attacker.example --timeout-ms 500 2>/dev/null)
	case $out in "fail "*"EPERM replies 0/"*) ;; *) fail "query for attacker.example: $out" ;; esac
	out=$(in_tool other "$BUILD/dnsprobe" query 10.42.0.99 log-collector.internal.corp \
		--timeout-ms 500 2>/dev/null)
	case $out in "fail "*"EPERM replies 0/"*) ;; *) fail "query to 10.42.0.99: $out" ;; esac
	# what the profile allows still passes
	out=$(in_tool other "$BUILD/dnsprobe" query 10.42.0.53 log-collector.internal.corp 2>/dev/null) ||
		fail "query for log-collector.internal.corp: $out" || return 1
	# a prefix an older install left in force (put in the trie by hand: {56, gen, AF_INET,
	# 10.42.0.0}) is not kept by an install without sources: refused, naming it
	gen=$(bpftool -j map lookup pinned "$PIN_DIR/ctl" key 0 0 0 0 | grep -o '"value":\["0x[0-9a-f]*"' |
		grep -o '0x[0-9a-f]*')
	bpftool map update pinned "$PIN_DIR/sources" key 56 0 0 0 $((gen & 1)) 2 0 0 10 42 0 0 \
		0 0 0 0 0 0 0 0 0 0 0 0 value 1 0 0 0 || fail "adding 10.42.0.0/24 to the trie" || return 1
	exits_with 1 "source 10.42.0.0/24: a source is one address.*(the instance's, from an older install)" \
		"$BIN" install --profile "$p" --cgroup "$CG" --name "$INSTANCE"
}

# host-side tc and the cgroup hooks together: one policy, one set of rule maps
test_modes_combine() {
	install_cgroup --tc-ingress "host0@$CORP" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q "tc_ingress" || fail "no tc attachment" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q "cgroup_egress" || fail "no cgroup attachment" || return 1
	[ "$("$BIN" status --name "$INSTANCE" --json | grep -o '"entries":[0-9]*' | tr '\n' ' ')" = '"entries":2 "entries":2 "entries":1 ' ] ||
		fail "rule entries: $("$BIN" status --name "$INSTANCE" --json | grep -o '"entries":[0-9]*')" || return 1
	# behind the cgroup hooks, a frame no socket hook sees is judged at host-side tc. First: the
	# last ACKs of a closed TCP connection leave from its time-wait socket, which has no cgroup,
	# so they are no_rule too, and would race with this count
	raw_delta no_rule 3 --src 10.42.0.2 --dst 10.42.7.12 --proto tcp --dport 8080 --count 3 \
		--qdisc-bypass || return 1
	want_ok memscraper connect 10.42.7.11 8080 || return 1
	want_eperm other connect 10.42.7.11 8080
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
