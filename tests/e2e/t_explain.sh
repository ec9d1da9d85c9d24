# t_explain.sh: explain runs the installed pipeline dry: its verdicts agree with real traffic,
# it counts and records nothing, and it refuses what it cannot know.

area explain "tools_profile" "" \
	test_explain

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
