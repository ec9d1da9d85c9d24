# t_names_real.sh: name rules against a real resolver and real clients. Debian's dnsmasq, in a
# namespace of its own routed behind the corporate one, answers the zone test.corp at two
# addresses; in the sandbox dig, glibc's resolver (getent ahosts, curl) ask it. Wildcard names (on
# label boundaries), the bound on a name's addresses (40: all reachable, the 41st refused, counted
# and logged), and resolver scoping: an answer of the second resolver, which 'allow dns' lets the
# sandbox ask, teaches nothing for a name whose rules say 'via' the first. One name with 40
# addresses in one answer: all learned (EDNS: dig, and glibc with 'options edns0'); over 512
# bytes without EDNS, the truncated answer teaches what it carries and glibc's retry over TCP
# nothing (counted); with max-addresses 32, the 8 beyond refused, counted and logged.

area names_real "" "" test_names_real_resolver test_names_real_forty test_names_real_forty_bound

REAL_NS=${NET_PREFIX}dns
REAL_PROFILE=$WORK/prof-real
FORTY_PROFILE=$WORK/prof-forty

# the resolver's namespace: dns0 (corp, 10.42.5.1) --- res0 10.42.5.53 and .54 (two dnsmasq)
real_net_up() {
	resolver_ns_up "$REAL_NS" dns0 res0 10.42.5 || return 1
	ip -n "$REAL_NS" addr add 10.42.5.54/24 dev res0
	# the addresses the zone gives: 10.42.9.1-41 on the corporate namespace's lo, one server
	for i in $(seq 41); do ip -n "$CORP" addr replace "10.42.9.$i/32" dev lo; done
	ip netns exec "$CORP" "$BUILD/netprobe" serve tcp 0.0.0.0 9443 --timeout-ms 120000 \
		>>"$LOGS/real-9443.log" 2>&1 &
	ip netns exec "$CORP" "$BUILD/netprobe" serve tcp 0.0.0.0 8443 --timeout-ms 120000 \
		>>"$LOGS/real-8443.log" 2>&1 &
}

# the sandbox's resolver for glibc: ip netns exec binds /etc/netns/NAME/resolv.conf
# (real_resolv_conf ADDR [OPTIONS]: an 'options' line too)
real_resolv_conf() {
	mkdir -p "/etc/netns/$SBX"
	defer rm -rf "/etc/netns/$SBX"
	echo "nameserver $1" >"/etc/netns/$SBX/resolv.conf"
	[ -z "${2:-}" ] || echo "options $2" >>"/etc/netns/$SBX/resolv.conf"
}

real_profile() {
	mkdir -p "$REAL_PROFILE"
	cat >"$REAL_PROFILE/10-dns.rules" <<-EOF
		allow udp 10.42.5.53 port 53
		allow udp 10.42.5.54 port 53
		allow dns *.test.corp
	EOF
	cat >"$REAL_PROFILE/15-names.rules" <<-EOF
		allow tcp name *.many.test.corp port 9443
		allow tcp name *.svc.test.corp port 8443 tool memscraper
		allow tcp name only.test.corp port 8443 via 10.42.5.53
		dns learn grace 5 max-addresses 40 max-total 100
	EOF
}

learn_count() {
	"$BIN" status --name "$INSTANCE" --json | grep -o "\"$1\":[0-9][0-9]*" | head -1 | grep -o '[0-9]*$'
}

test_names_real_resolver() {
	local conf=$WORK/dnsmasq.conf conf2=$WORK/dnsmasq2.conf out i before refused=
	command -v dnsmasq >/dev/null && command -v dig >/dev/null ||
		fail "dnsmasq and dig are needed (make deps)" || return 1
	real_net_up || fail "the resolver's namespace" || return 1
	{
		echo "address=/api.svc.test.corp/10.42.9.41"
		echo "address=/deep.api.svc.test.corp/10.42.9.40"
		echo "address=/svc.test.corp/10.42.9.39"
		echo "address=/evilsvc.test.corp/10.42.9.38"
		echo "address=/only.test.corp/10.42.9.37"
		# 41 addresses of *.many.test.corp over three names, learned from three answers
		for i in $(seq 14); do echo "host-record=a.many.test.corp,10.42.9.$i"; done
		for i in $(seq 15 28); do echo "host-record=b.many.test.corp,10.42.9.$i"; done
		for i in $(seq 29 41); do echo "host-record=c.many.test.corp,10.42.9.$i"; done
		echo "local-ttl=60"
	} >"$conf"
	echo "address=/only.test.corp/10.42.9.36" >"$conf2"
	dnsmasq_start "$REAL_NS" 10.42.5.53 "$conf" || return 1
	dnsmasq_start "$REAL_NS" 10.42.5.54 "$conf2" || return 1
	real_resolv_conf 10.42.5.53
	real_profile
	install_ingress "$REAL_PROFILE" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q "^  0 addresses kept (max-addresses 40 a name, max-total 100)$" ||
		fail "status: no bounds: $("$BIN" status --name "$INSTANCE")" || return 1
	# a wildcard: below the suffix, through glibc's resolver (getent) and curl
	expect_denied connect 10.42.9.41 8443 || return 1
	out=$(in_tool memscraper getent ahosts api.svc.test.corp) || fail "getent: $out" || return 1
	echo "$out" | grep -q "^10.42.9.41 " || fail "getent ahosts api.svc.test.corp: $out" || return 1
	out=$(in_tool memscraper curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
		http://api.svc.test.corp:8443/) || fail "curl: $out" || return 1
	[ "$out" = 200 ] || fail "curl http://api.svc.test.corp:8443/: $out" || return 1
	in_tool memscraper dig +short +tries=1 +time=2 @10.42.5.53 DEEP.Api.SVC.test.corp A >/dev/null
	expect_ok connect 10.42.9.40 8443 || return 1
	# the suffix itself and a name not on a label boundary teach nothing
	in_tool memscraper dig +short +tries=1 +time=2 @10.42.5.53 svc.test.corp A >/dev/null
	in_tool memscraper dig +short +tries=1 +time=2 @10.42.5.53 evilsvc.test.corp A >/dev/null
	expect_denied connect 10.42.9.39 8443 || return 1
	expect_denied connect 10.42.9.38 8443 || return 1
	# 41 addresses for *.many.test.corp: 40 learned, all reachable; the 41st refused, counted, logged
	before=$(learn_count cap)
	for n in a b c; do
		out=$(in_tool memscraper dig +short +tries=1 +time=2 @10.42.5.53 "$n.many.test.corp" A)
		[ "$(echo "$out" | grep -c '^10\.42\.9\.')" -ge 13 ] || fail "dig $n.many.test.corp: $out" || return 1
	done
	[ $(($(learn_count cap) - before)) = 1 ] || fail "cap went $before -> $(learn_count cap)" || return 1
	# which of c's is refused depends on the order of its answer
	for i in $(seq 41); do
		out=$(probe connect "10.42.9.$i" 9443 --timeout-ms 800)
		case $out in
		"ok "*) ;;
		"fail "*ETIMEDOUT) refused="$refused $i" ;;
		*) fail "connect 10.42.9.$i 9443: $out"; return 1 ;;
		esac
	done
	case $refused in " 29" | " 3"[0-9] | " 4"[01]) ;; *) fail "refused:$refused, want one of c's" ;; esac ||
		return 1
	"$BIN" status --name "$INSTANCE" --json | grep -q '"learn_bounds":{"learned_addresses":42,"max_addresses":40,"max_total":100}' ||
		fail "status --json: $("$BIN" status --name "$INSTANCE" --json)" || return 1
	"$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep '"reason":"learn_bound"' |
		grep -q "\"source\":\"10.42.5.53:53\",\"destination\":\"10.42.9.${refused# }[:\"]" ||
		fail "no learn_bound event: $("$BIN" log --name "$INSTANCE" --json 2>&1 | tail -3)" || return 1
	# 'via 10.42.5.53': the second resolver's answer (allowed by 'allow dns') teaches nothing
	before=$(learn_count not_via)
	out=$(in_tool memscraper dig +short +tries=1 +time=2 @10.42.5.54 only.test.corp A)
	[ "$out" = 10.42.9.36 ] || fail "dig @10.42.5.54 only.test.corp: $out" || return 1
	[ $(($(learn_count not_via) - before)) = 1 ] || fail "not_via went $before -> $(learn_count not_via)" || return 1
	expect_denied connect 10.42.9.36 8443 || return 1
	out=$(in_tool memscraper dig +short +tries=1 +time=2 @10.42.5.53 only.test.corp A)
	[ "$out" = 10.42.9.37 ] || fail "dig @10.42.5.53 only.test.corp: $out" || return 1
	expect_ok connect 10.42.9.37 8443
}

# forty.test.corp: 10.42.9.1-40 in one answer (about 690 bytes: over 512, so EDNS or TCP)
real_forty() {
	local conf=$WORK/dnsmasq-forty.conf i
	command -v dnsmasq >/dev/null && command -v dig >/dev/null ||
		fail "dnsmasq and dig are needed (make deps)" || return 1
	real_net_up || fail "the resolver's namespace" || return 1
	{
		for i in $(seq 40); do echo "host-record=forty.test.corp,10.42.9.$i"; done
		echo "local-ttl=60"
	} >"$conf"
	dnsmasq_start "$REAL_NS" 10.42.5.53 "$conf" || return 1
	# no 'allow dns' lines: queries over TCP pass (they teach nothing)
	rm -rf "$FORTY_PROFILE"
	mkdir -p "$FORTY_PROFILE"
	cat >"$FORTY_PROFILE/10-dns.rules" <<-EOF
		allow udp 10.42.5.53 port 53
		allow tcp 10.42.5.53 port 53
		allow tcp name forty.test.corp port 9443
		dns learn grace 5 $1
	EOF
	install_ingress "$FORTY_PROFILE"
}

learned_addresses() {
	"$BIN" status --name "$INSTANCE" --json | grep -o '"learned_addresses":[0-9]*' | grep -o '[0-9]*$'
}

# dig ARGS...: the A records of forty.test.corp the sandbox's dig gets, one address a line
forty_dig() {
	in_tool memscraper dig +tries=1 +time=2 +noall +answer "$@" @10.42.5.53 forty.test.corp A |
		awk '$4 == "A" { print $5 }'
}

test_names_real_forty() {
	local out n trunc tcp i learned missing=
	real_forty "" || return 1
	# glibc without 'options edns0': the answer is over 512 bytes, so dnsmasq truncates it (TC);
	# glibc asks again over TCP and lists all 40. The truncated answer teaches the records it
	# carries, the TCP answer nothing (counted: tcp): some listed addresses stay unreachable
	real_resolv_conf 10.42.5.53
	trunc=$(learn_count truncated)
	tcp=$(learn_count tcp)
	out=$(in_tool memscraper getent ahostsv4 forty.test.corp | awk '$2 == "STREAM" { print $1 }')
	[ "$(echo "$out" | grep -c .)" = 40 ] || fail "getent without edns0: $out" || return 1
	[ "$(learn_count tcp)" -gt "$tcp" ] || fail "tcp went $tcp -> $(learn_count tcp)" || return 1
	[ "$(learn_count truncated)" -gt "$trunc" ] || fail "truncated went $trunc -> $(learn_count truncated)" || return 1
	n=$(learned_addresses)
	[ "$n" -gt 0 ] && [ "$n" -lt 40 ] || fail "learned $n from the truncated answer" || return 1
	learned=$("$BIN" status --name "$INSTANCE" --json | grep -o '"address":"10\.42\.9\.[0-9]*"' |
		grep -o '[0-9]*"$' | tr -d '"' | tr '\n' ' ')
	for i in $(seq 40); do case " $learned" in *" $i "*) ;; *) missing=$i ;; esac; done
	[ -n "$missing" ] || fail "no address left unlearned: $learned" || return 1
	expect_denied connect "10.42.9.$missing" 9443 || return 1
	expect_ok connect "10.42.9.${learned%% *}" 9443 || return 1
	# the same with dig: +noedns +ignore shows what the truncated answer carried
	trunc=$(learn_count truncated)
	out=$(forty_dig +noedns +ignore)
	n=$(echo "$out" | grep -c .)
	[ "$n" -gt 0 ] && [ "$n" -lt 40 ] || fail "dig +noedns +ignore: $n records: $out" || return 1
	[ $(($(learn_count truncated) - trunc)) = 1 ] || fail "truncated went $trunc -> $(learn_count truncated)" || return 1
	expect_ok connect "$(echo "$out" | tail -1)" 9443 || return 1
	# EDNS (dig's default, glibc's 'options edns0'): the whole answer in one datagram, all 40 learned
	real_resolv_conf 10.42.5.53 edns0
	out=$(in_tool memscraper getent ahostsv4 forty.test.corp | awk '$2 == "STREAM" { print $1 }')
	[ "$(echo "$out" | grep -c .)" = 40 ] || fail "getent with edns0: $out" || return 1
	[ "$(learned_addresses)" = 40 ] || fail "learned $(learned_addresses) after getent with edns0, want 40" || return 1
	out=$(forty_dig)
	[ "$(echo "$out" | sort -t. -k4n | tr '\n' ' ')" = "$(for i in $(seq 40); do printf '10.42.9.%s ' "$i"; done)" ] ||
		fail "dig forty.test.corp: $out" || return 1
	"$BIN" status --name "$INSTANCE" --json | grep -q '"learn_bounds":{"learned_addresses":40,"max_addresses":64,' ||
		fail "status --json: $("$BIN" status --name "$INSTANCE" --json)" || return 1
	for i in 1 20 40; do expect_ok connect "10.42.9.$i" 9443 || return 1; done
	out=$(in_tool memscraper curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
		http://forty.test.corp:9443/) || fail "curl: $out" || return 1
	[ "$out" = 200 ] || fail "curl http://forty.test.corp:9443/: $out" || return 1
	# an address not in the answer (a server listens there too): denied, with its reason
	expect_denied connect 10.42.9.41 9443 || return 1
	"$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep '"destination":"10.42.9.41:9443"' |
		grep -q '"reason":"no_rule"' ||
		fail "no no_rule event for 10.42.9.41:9443: $("$BIN" log --name "$INSTANCE" --json 2>&1 | tail -3)"
}

# max-addresses 32: of the 40, the 8 beyond the bound refused, counted (cap) and logged (learn_bound)
test_names_real_forty_bound() {
	local out cap ok=0 refused= logged i
	real_forty "max-addresses 32" || return 1
	real_resolv_conf 10.42.5.53 edns0
	cap=$(learn_count cap)
	out=$(forty_dig)
	[ "$(echo "$out" | grep -c .)" = 40 ] || fail "dig forty.test.corp: $out" || return 1
	[ $(($(learn_count cap) - cap)) = 8 ] || fail "cap went $cap -> $(learn_count cap)" || return 1
	"$BIN" status --name "$INSTANCE" --json | grep -q '"learn_bounds":{"learned_addresses":32,"max_addresses":32,' ||
		fail "status --json: $("$BIN" status --name "$INSTANCE" --json)" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q "^  32 addresses kept (max-addresses 32 a name," ||
		fail "status: $("$BIN" status --name "$INSTANCE")" || return 1
	logged=$("$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep '"reason":"learn_bound"' |
		grep '"source":"10.42.5.53:53"' | grep -o '"destination":"10\.42\.9\.[0-9]*' |
		grep -o '[0-9]*$' | sort -n | tr '\n' ' ')
	# which 8 are refused depends on the answer's order: those logged, and no other
	for i in $(seq 40); do
		out=$(probe connect "10.42.9.$i" 9443 --timeout-ms 800)
		case $out in
		"ok "*) ok=$((ok + 1)) ;;
		"fail "*ETIMEDOUT) refused="$refused$i " ;;
		*) fail "connect 10.42.9.$i 9443: $out"; return 1 ;;
		esac
	done
	[ "$ok" = 32 ] || fail "$ok of 40 reachable, want 32 (refused: $refused)" || return 1
	[ "$refused" = "$logged" ] || fail "refused: $refused; logged learn_bound: $logged"
}
