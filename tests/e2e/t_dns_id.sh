# t_dns_id.sh: what authenticates a DNS answer is out of the sandbox's sight: the query's id is
# rewritten at host-side tc ingress and given back at host-side tc egress. A partner that knows the
# sandbox's id and port and answers first teaches nothing (from the resolver's link: discarded; from
# another link: not by the route to the resolver); the real client gets its answer, with its own
# id, checksums right with veth offload on and off, an IPv4 checksum of 0, and IPv6.

area dns_id "learn_profile" "" \
	test_dns_id_forged_first test_dns_id_forged_from_another_link test_dns_id_checksums

# csum_errors NETNS: UDP checksum errors the namespace counted (IPv4 and IPv6)
csum_errors() {
	ip netns exec "$1" awk '
		/^Udp: / && !h { for (i = 2; i <= NF; i++) if ($i == "InCsumErrors") c = i; h = 1; next }
		/^Udp: / && h { n += $c }
		$1 == "Udp6InCsumErrors" { n += $2 }
		END { print n + 0 }' /proc/net/snmp /proc/net/snmp6
}

# pending_wait: until a query waits for its answer (the sandbox's lookup went out)
pending_wait() {
	for _ in $(seq 40); do
		bpftool map dump pinned "$PIN_DIR/learn_pending" 2>/dev/null | grep -q '"key"\|^key' && return 0
		sleep 0.05
	done
	fail "no query waits for its answer"
}

# a partner in the resolver's own namespace knows the sandbox's id (4096) and port and answers
# first: the answer is forged (wrong_id), its address stays closed, and the query it raced is
# discarded; the next lookup, a second later, opens the real address
test_dns_id_forged_first() {
	local out forged looked
	install_ingress "$LEARN_PROFILE" || return 1
	resolver --answer log-collector.internal.corp=10.42.7.11 --delay-ms 500 || return 1
	lookup log-collector.internal.corp --sport 40100 --timeout-ms 3000 >"$WORK/forged-lookup" &
	looked=$!
	pending_wait || return 1
	forged=$(learn_count wrong_id)
	ip netns exec "$CORP" "$BUILD/dnsprobe" forge 10.42.0.54 10.42.0.2 40100 \
		log-collector.internal.corp 10.42.7.12 --id 4096 >/dev/null || fail "forge" || return 1
	wait "$looked"
	sleep 0.6 # the real answer, late, came and was discarded
	expect_denied connect 10.42.7.12 8080 || return 1
	expect_denied connect 10.42.7.11 8080 || return 1
	[ "$(learn_count wrong_id)" = $((forged + 1)) ] ||
		fail "the forged answer was not counted: wrong_id $forged -> $(learn_count wrong_id)" || return 1
	sleep 1 # learning stops for the second after a forgery
	resolver --answer log-collector.internal.corp=10.42.7.11 || return 1
	out=$(lookup log-collector.internal.corp --sport 40100) || fail "lookup: $out" || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	expect_denied connect 10.42.7.12 8080
}

# the resolver is routed (its own namespace behind the host); a partner on another link of the
# host claims its address and answers first: not by the route to the resolver (wrong_if), so its
# address stays closed, and the real answer to the same query opens the real address
test_dns_id_forged_from_another_link() {
	local rsv=${NET_PREFIX}rsv nbr=${NET_PREFIX}nbr p=$WORK/prof-routed out
	ip netns add "$rsv" && defer ip netns del "$rsv" || return 1
	ip netns add "$nbr" && defer ip netns del "$nbr" || return 1
	ip link add rsv0 netns "$rsv" type veth peer name crsv0 netns "$CORP" || return 1
	ip link add nbr0 netns "$nbr" type veth peer name cnbr0 netns "$CORP" || return 1
	ip -n "$CORP" addr add 10.42.5.1/24 dev crsv0
	ip -n "$CORP" addr add 10.42.6.1/24 dev cnbr0
	ip -n "$CORP" link set crsv0 up
	ip -n "$CORP" link set cnbr0 up
	ip -n "$rsv" addr add 10.42.5.53/24 dev rsv0
	ip -n "$nbr" addr add 10.42.6.2/24 dev nbr0
	ip -n "$rsv" link set rsv0 up
	ip -n "$nbr" link set nbr0 up
	ip -n "$rsv" route add default via 10.42.5.1
	ip -n "$nbr" route add default via 10.42.6.1
	ip netns exec "$CORP" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.cnbr0.rp_filter=0 || return 1
	defer ip netns exec "$CORP" sysctl -qw net.ipv4.ip_forward=0
	mkdir -p "$p"
	echo "allow udp 10.42.5.53 port 53" >"$p/10-dns.rules"
	cp "$LEARN_PROFILE/15-learn.rules" "$p/"
	install_ingress "$p" || return 1
	ip netns exec "$rsv" "$BUILD/dnsprobe" serve 10.42.5.53 --ttl 2 --timeout-ms 20000 \
		--answer log-collector.internal.corp=10.42.7.11 --delay-ms 500 \
		>>"$LOGS/routed-resolver.log" 2>&1 &
	sleep 0.2
	in_tool memscraper "$BUILD/dnsprobe" query 10.42.5.53 log-collector.internal.corp \
		--sport 40110 --timeout-ms 3000 >"$WORK/routed-lookup" 2>&1 &
	pending_wait || return 1
	ip netns exec "$nbr" "$BUILD/dnsprobe" forge 10.42.5.53 10.42.0.2 40110 \
		log-collector.internal.corp 10.42.7.12 --id 4096 >/dev/null || fail "forge" || return 1
	for _ in $(seq 30); do
		[ "$(learn_count learned)" -ge 1 ] && break
		sleep 0.1
	done
	expect_denied connect 10.42.7.12 8080 || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	[ "$(learn_count wrong_if)" = 1 ] && [ "$(learn_count wrong_id)" = 0 ] ||
		fail "the forged answer from another link: wrong_if $(learn_count wrong_if), wrong_id $(learn_count wrong_id), want 1 and 0"
}

# dns_id_row OFFLOAD FAMILY CHECKSUM: a lookup through the rewrite and the restore with veth
# checksum offload on or off, IPv4 or IPv6, UDP checksums or none (IPv4): the client gets its
# answer with its own id (dnsprobe takes no other), the address opens, and neither end counts a
# UDP checksum error
dns_id_row() {
	local offload=$1 family=$2 csum=$3 server name addr out args=() learned
	ip netns exec "$SBX" ethtool -K sbx0 tx "$offload" >/dev/null 2>&1 || fail "ethtool sbx0 tx $offload" || return 1
	ip netns exec "$CORP" ethtool -K host0 tx "$offload" >/dev/null 2>&1 || fail "ethtool host0 tx $offload" || return 1
	[ "$csum" = none ] && args=(--no-check)
	if [ "$family" = 6 ]; then server=fd00:42::54 addr=fd00:7::11; else server=10.42.0.54 addr=10.42.7.11; fi
	name=log-collector.internal.corp
	ip netns exec "$CORP" "$BUILD/dnsprobe" serve "$server" --ttl 2 --timeout-ms 20000 --count 1 \
		--answer "$name=$addr" "${args[@]}" >>"$LOGS/csum-resolver.log" 2>&1 &
	for _ in $(seq 40); do
		ip netns exec "$CORP" ss -Hlun | grep -q "$server\]*:53 " && break
		sleep 0.05
	done
	learned=$(learn_count learned)
	out=$(in_tool memscraper "$BUILD/dnsprobe" query "$server" "$name" --type $((family == 6 ? 28 : 1)) \
		"${args[@]}" 2>&1) || fail "tx $offload, IPv$family, checksum $csum: lookup: $out" || return 1
	sleep 0.2
	[ "$(learn_count learned)" -gt "$learned" ] && expect_ok connect "$addr" 8080 ||
		fail "tx $offload, IPv$family, checksum $csum: not learned" || return 1
	[ "$(csum_errors "$SBX")" = 0 ] && [ "$(csum_errors "$CORP")" = 0 ] ||
		fail "tx $offload, IPv$family, checksum $csum: UDP checksum errors: sandbox $(csum_errors "$SBX"), host $(csum_errors "$CORP")"
}

test_dns_id_checksums() {
	local p=$WORK/prof-csum
	mkdir -p "$p"
	printf 'allow udp 10.42.0.54 port 53\nallow udp fd00:42::54 port 53\n' >"$p/10-dns.rules"
	cp "$LEARN_PROFILE/15-learn.rules" "$p/"
	ip -n "$CORP" addr add fd00:42::54/64 dev host0 nodad || return 1
	defer ip -n "$CORP" addr del fd00:42::54/64 dev host0
	defer ip netns exec "$SBX" ethtool -K sbx0 tx on
	defer ip netns exec "$CORP" ethtool -K host0 tx on
	install_ingress "$p" || return 1
	each_row dns_id_row <<-'EOF'
		on  4 sum
		on  4 none
		on  6 sum
		off 4 sum
		off 4 none
		off 6 sum
	EOF
}
