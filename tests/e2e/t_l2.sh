# t_l2.sh: layer 2 when the host-side veth is a bridge port (Docker, podman, CNI bridge): a
# neighbour on the bridge captures what reaches it while a sandbox holding CAP_NET_RAW writes
# frames; it must receive nothing beyond the ARP and ND the sandbox needs for its gateway, and
# traffic through the gateway still works. And the bridge's MAC, which follows its ports, is
# read again by refresh.
#
#   ${NET_PREFIX}l2s (sandbox)   sbx0 10.77.0.2/24 fd00:77::2/64, default via 10.77.0.1
#        | veth
#   ${NET_PREFIX}l2h (host)      hsbx0, hnbr0 ports of br0 10.77.0.1/24 fd00:77::1/64;
#        | veth                  lo 10.77.7.11 (a server, reached through the gateway)
#   ${NET_PREFIX}l2n (neighbour) nbr0 10.77.0.3/24 fd00:77::3/64: captures

area l2 "" "" \
	test_bridge_neighbour_gets_only_arp_nd test_bridge_mac_refreshed test_bridge_gateway_elsewhere

L2S=${NET_PREFIX}l2s
L2H=${NET_PREFIX}l2h
L2N=${NET_PREFIX}l2n
SPOOF_MAC=02:00:00:00:77:77

l2_net_down() {
	ip netns del "$L2S" 2>/dev/null
	ip netns del "$L2N" 2>/dev/null
	ip netns del "$L2H" 2>/dev/null
	return 0
}

l2_net_up() {
	local ns p
	for ns in "$L2S" "$L2H" "$L2N"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	# no router solicitations of the sandbox's own: the counts below are the test's frames
	ip netns exec "$L2S" sysctl -qw net.ipv6.conf.default.router_solicitations=0 || return 1
	ip -n "$L2H" link add br0 type bridge || return 1
	ip -n "$L2H" link set br0 up
	ip link add sbx0 netns "$L2S" type veth peer name hsbx0 netns "$L2H" || return 1
	ip link add nbr0 netns "$L2N" type veth peer name hnbr0 netns "$L2H" || return 1
	for p in hsbx0 hnbr0; do
		ip -n "$L2H" link set "$p" master br0 && ip -n "$L2H" link set "$p" up || return 1
	done
	ip -n "$L2H" addr add 10.77.0.1/24 dev br0
	ip -n "$L2H" addr add fd00:77::1/64 dev br0 nodad
	ip -n "$L2H" addr add 10.77.7.11/32 dev lo
	ip -n "$L2S" addr add 10.77.0.2/24 dev sbx0
	ip -n "$L2S" addr add fd00:77::2/64 dev sbx0 nodad
	ip -n "$L2S" link set sbx0 up
	ip -n "$L2S" route add default via 10.77.0.1
	ip -n "$L2N" addr add 10.77.0.3/24 dev nbr0
	ip -n "$L2N" addr add fd00:77::3/64 dev nbr0 nodad
	ip -n "$L2N" link set nbr0 up
	BR_MAC=$(ip -n "$L2H" link show br0 | awk '/ether/ {print $2}')
	SBX_MAC=$(ip -n "$L2S" link show sbx0 | awk '/ether/ {print $2}')
	NBR_MAC=$(ip -n "$L2N" link show nbr0 | awk '/ether/ {print $2}')
}

# l2_raw REASON N RAWFRAME-ARGS...: frames from the sandbox, REASON counted exactly N more
l2_raw() {
	local reason=$1 want=$2 before after
	shift 2
	before=$(count "$reason")
	ip netns exec "$L2S" "$BUILD/rawframe" sbx0 "$@" >/dev/null || fail "rawframe $* failed"
	after=$(count "$reason")
	[ $((after - before)) = "$want" ] ||
		fail "$reason went $before -> $after after rawframe $*, want +$want"
}

l2_install() {
	local p=$WORK/prof-l2
	mkdir -p "$p"
	# the neighbour is allowed too: on-link, it is reached through the gateway or not at all
	printf 'allow udp 10.77.7.11 port 9000\nallow udp 10.77.0.3 port 9000\n' >"$p/10-l2.rules"
	"$BIN" install --profile "$p" --tc-ingress "hsbx0@$L2H" --sandbox-netns "$L2S" \
		--name "$INSTANCE" "$@" >/dev/null || fail "install on the bridge port failed"
}

test_bridge_neighbour_gets_only_arp_nd() {
	local cap=$WORK/neighbour.cap out ok=0 bad
	defer l2_net_down
	l2_net_up || fail "the bridge's namespaces" || return 1
	l2_install || return 1
	ip netns exec "$L2H" "$BUILD/netprobe" serve udp 10.77.7.11 9000 --timeout-ms 20000 \
		>"$WORK/server.log" 2>/dev/null &
	ip netns exec "$L2N" "$BUILD/rawframe" nbr0 --capture 20000 >"$cap" 2>&1 &
	local capture=$!
	for _ in $(seq 50); do grep -q capturing "$cap" && break; sleep 0.05; done
	local udp=(--src 10.77.0.2 --dst 10.77.7.11 --proto udp --dport 9000 --count 3)
	local arp=(--dst-mac ff:ff:ff:ff:ff:ff --src 10.77.0.2 --proto arp --count 3)
	local ns=(--dst-mac 33:33:ff:00:00:01 --src fd00:77::2 --dst ff02::1:ff00:1 --proto ns --count 3)
	# ARP first: once the server answers, the host asks for the sandbox, which replies (arp)
	each_row l2_raw <<-EOF || return 1
		arp 3 ${arp[*]} --dst 10.77.0.1
		rule 3 --dst-mac $BR_MAC ${udp[*]}
		l2_dst 3 --dst-mac $NBR_MAC ${udp[*]}
		l2_dst 3 --dst-mac ff:ff:ff:ff:ff:ff ${udp[*]}
		trailer 3 --dst-mac $BR_MAC ${udp[*]} --trailer 1000
		spoofed_mac 3 --dst-mac $BR_MAC ${udp[*]} --src-mac $SPOOF_MAC
		spoofed_mac 3 ${arp[*]} --dst 10.77.0.1 --src-mac $SPOOF_MAC
		trailer 3 ${arp[*]} --dst 10.77.0.1 --trailer 18
		trailer 3 ${arp[*]} --dst 10.77.0.1 --trailer 1400
		arp_denied 3 ${arp[*]} --dst 10.77.0.1 --arp-op 7
		arp_denied 3 ${arp[*]} --dst 10.77.0.3
		arp_denied 3 ${arp[*]} --dst 10.77.0.1 --arp-tha $NBR_MAC
		nd 3 ${ns[*]} --nd-target fd00:77::1 --nd-options 8
		nd_denied 3 ${ns[*]} --nd-target fd00:77::1 --nd-options 1024
		nd_denied 3 --dst-mac 33:33:ff:00:00:03 --src fd00:77::2 --dst ff02::1:ff00:3 --proto ns --count 3 --nd-target fd00:77::3
	EOF
	# the kernel's own way: through the gateway it works, to the neighbour it does not
	out=$(ip netns exec "$L2S" "$BUILD/netprobe" udp 10.77.7.11 9000 --timeout-ms 2000)
	[ "${out%% *}" = ok ] || fail "UDP through the gateway: $out" || return 1
	out=$(ip netns exec "$L2S" "$BUILD/netprobe" udp 10.77.0.3 9000 --timeout-ms 1500)
	[ "${out%% *}" = fail ] || fail "the neighbour was reached on the link: $out" || return 1
	[ "$(grep -c "udp from" "$WORK/server.log")" -ge 4 ] ||
		fail "the allowed datagrams did not reach the server: $(cat "$WORK/server.log")" || return 1
	kill "$capture" 2>/dev/null
	wait "$capture" 2>/dev/null
	# what the neighbour got from the sandbox (or posing as it): ARP requests for the gateway,
	# 42 bytes, neighbour solicitations for it and router solicitations; nothing else
	bad=$(grep -E "src ($SBX_MAC|$SPOOF_MAC)" "$cap" |
		grep -vE "^frame 42 dst ff:ff:ff:ff:ff:ff src $SBX_MAC type 0x0806 arp op 1 tpa 10\.77\.0\.1$" |
		grep -vE "^frame (78|86) dst 33:33:ff:00:00:01 src $SBX_MAC type 0x86dd ip6 nh 58 dst ff02::1:ff00:1 icmp6 135$" |
		grep -vE "^frame (62|70) dst 33:33:00:00:00:02 src $SBX_MAC type 0x86dd ip6 nh 58 dst ff02::2 icmp6 133$")
	[ -z "$bad" ] || fail "the neighbour received from the sandbox:" "$bad" || return 1
	ok=$(grep -c "src $SBX_MAC type 0x0806 arp op 1 tpa 10.77.0.1" "$cap")
	[ "$ok" -ge 3 ] || fail "the neighbour saw $ok ARP requests for the gateway, want 3 or more" \
		"(the capture: $(head -3 "$cap"))" || return 1
}

# a bridge without a set MAC takes its lowest port's: a container joining changes it, and
# refresh reads it again; until then frames to the new MAC are denied (l2_dst), never let
# through to a MAC the host side did not read
test_bridge_mac_refreshed() {
	local udp=(--src 10.77.0.2 --dst 10.77.7.11 --proto udp --dport 9000 --count 2) before after
	defer l2_net_down
	l2_net_up || fail "the bridge's namespaces" || return 1
	l2_install || return 1
	l2_raw rule 2 --dst-mac "$BR_MAC" "${udp[@]}" || return 1
	# a new port with a lower MAC: the bridge takes it
	ip -n "$L2H" link add hnew0 address 02:00:00:00:00:01 type veth peer name new0 || return 1
	ip -n "$L2H" link set hnew0 master br0
	before=$BR_MAC
	after=$(ip -n "$L2H" link show br0 | awk '/ether/ {print $2}')
	[ "$after" != "$before" ] || fail "the bridge kept its MAC $before (a fixed one?)" || return 1
	l2_raw l2_dst 2 --dst-mac "$after" "${udp[@]}" || return 1
	out=$("$BIN" refresh --name "$INSTANCE" 2>&1) || fail "refresh: $out" || return 1
	l2_raw rule 2 --dst-mac "$after" "${udp[@]}" || return 1
	l2_raw l2_dst 2 --dst-mac "$before" "${udp[@]}" || return 1
	# reload reads it too: the bridge back at its old MAC
	ip -n "$L2H" link del hnew0
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload failed" || return 1
	l2_raw rule 2 --dst-mac "$before" "${udp[@]}"
}

# a router elsewhere on the bridge (--gateway): its MAC is the host's neighbour entry for it,
# refused without one; then IP goes to it, ARP asks for it, and not for the bridge's address
test_bridge_gateway_elsewhere() {
	local p=$WORK/prof-l2gw out
	local udp=(--src 10.77.0.2 --dst 10.77.7.11 --proto udp --dport 9000 --count 2)
	local arp=(--dst-mac ff:ff:ff:ff:ff:ff --src 10.77.0.2 --proto arp --count 2)
	local install=("$BIN" install --profile "$p" --tc-ingress "hsbx0@$L2H" --sandbox-netns "$L2S"
		--gateway 10.77.0.3 --name "$INSTANCE")
	defer l2_net_down
	l2_net_up || fail "the bridge's namespaces" || return 1
	mkdir -p "$p" && printf 'allow udp 10.77.7.11 port 9000\n' >"$p/10-l2.rules" || return 1
	out=$("${install[@]}" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "gateway 10.77.0.3: the host has no neighbour entry for it on br0" ||
		fail "--gateway with no neighbour entry: $out" || return 1
	[ ! -e "$PIN_DIR" ] || fail "a refused install left pins" || return 1
	ip -n "$L2H" neigh replace 10.77.0.3 lladdr "$NBR_MAC" dev br0 nud permanent || return 1
	"${install[@]}" >/dev/null || fail "install with --gateway 10.77.0.3 failed" || return 1
	# the sandbox's own stack asks nothing meanwhile: only rawframe's ARP frames are counted
	ip -n "$L2S" neigh replace 10.77.0.1 lladdr "$BR_MAC" dev sbx0 nud permanent &&
		ip -n "$L2S" neigh replace 10.77.0.3 lladdr "$NBR_MAC" dev sbx0 nud permanent || return 1
	each_row l2_raw <<-EOF || return 1
		arp 2 ${arp[*]} --dst 10.77.0.3
		arp_denied 2 ${arp[*]} --dst 10.77.0.1
		rule 2 --dst-mac $NBR_MAC ${udp[*]}
		rule 2 --dst-mac $BR_MAC ${udp[*]}
	EOF
	grep -qx "gateway=10.77.0.3" "$CONF_FILE" || fail "the gateway was not recorded" || return 1
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload failed" || return 1
	l2_raw arp_denied 2 "${arp[@]}" --dst 10.77.0.1 || return 1
	l2_raw rule 2 --dst-mac "$NBR_MAC" "${udp[@]}"
}
