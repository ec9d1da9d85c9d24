# sandbox-net.sh: the scenario's network in two namespaces, for the demo and the e2e tests.
# Source it, set NET_PREFIX and BUILD, then call net_up / net_services / net_down.
#
#   ${NET_PREFIX}sbx  (the sandbox)        ${NET_PREFIX}corp  ("the corporate network")
#   sbx0 10.42.0.2/24  <--- veth --->  host0 10.42.0.1/24, resolver 10.42.0.53,
#   fd00:42::2/64                            fd00:42::1/64, fd00:7::11 (IPv6 collector)
#   default via 10.42.0.1                      rogue resolver 10.42.0.99
#                                      lo: 10.42.7.11 (log collector) 10.42.7.12 10.42.7.20/21,
#                                          203.0.113.1 203.0.113.9 198.51.100.42
# Traffic never leaves these two namespaces.

NET_PREFIX=${NET_PREFIX:-icp}
SBX=${NET_PREFIX}sbx
CORP=${NET_PREFIX}corp
NET_PIDS=()

net_up() {
	ip netns add "$SBX" || return 1
	ip netns add "$CORP" || return 1
	ip link add sbx0 netns "$SBX" type veth peer name host0 netns "$CORP" || return 1
	ip -n "$SBX" link set lo up
	ip -n "$SBX" addr add 10.42.0.2/24 dev sbx0
	ip -n "$SBX" link set sbx0 up
	ip -n "$SBX" route add default via 10.42.0.1
	ip -n "$CORP" link set lo up
	for a in 10.42.0.1/24 10.42.0.53/24 10.42.0.99/24; do
		ip -n "$CORP" addr add "$a" dev host0
	done
	for a in 10.42.7.11 10.42.7.12 10.42.7.20 10.42.7.21 203.0.113.1 203.0.113.9 198.51.100.42; do
		ip -n "$CORP" addr add "$a/32" dev lo
	done
	ip -n "$CORP" link set host0 up
	# IPv6 too: the sandbox fd00:42::2, the collector fd00:7::11 (neighbour discovery must work)
	ip -n "$SBX" addr add fd00:42::2/64 dev sbx0 nodad
	ip -n "$SBX" route add default via fd00:42::1
	ip -n "$CORP" addr add fd00:42::1/64 dev host0 nodad
	ip -n "$CORP" addr add fd00:7::11/128 dev lo
}

# net_serve PROTO ADDR PORT LOGFILE: a bounded server in the corporate namespace
net_serve() {
	ip netns exec "$CORP" "$BUILD/netprobe" serve "$1" "$2" "$3" --timeout-ms "${NET_SERVE_MS:-600000}" \
		>"$4" 2>/dev/null &
	NET_PIDS+=($!)
}

net_services() {
	local dir=$1
	net_serve tcp 10.42.7.11 8080 "$dir/collector.log"
	net_serve tcp 10.42.7.11 8081 "$dir/decoy-8081.log"
	net_serve tcp 10.42.7.12 8080 "$dir/decoy-7.12.log"
	net_serve tcp 203.0.113.1 443 "$dir/update.log"
	net_serve tcp 198.51.100.42 443 "$dir/telemetry.log"
	net_serve tcp 203.0.113.9 443 "$dir/decoy-https.log"
	net_serve udp 10.42.0.53 53 "$dir/resolver.log"
	net_serve udp 10.42.0.99 53 "$dir/rogue-resolver.log"
	net_serve tcp 10.42.7.20 5432 "$dir/postgres.log"
	net_serve tcp 10.42.7.21 5432 "$dir/decoy-postgres.log"
	net_serve udp 10.42.7.11 9000 "$dir/flow-allowed.log"
	net_serve udp 10.42.7.12 9000 "$dir/flow-denied.log"
	net_serve tcp fd00:7::11 8080 "$dir/collector6.log"
	net_serve tcp fd00:7::11 8081 "$dir/decoy6.log"
	# wait until the last one listens
	for _ in $(seq 50); do
		ip netns exec "$CORP" sh -c 'grep -q ":2328 " /proc/net/udp' 2>/dev/null && break
		sleep 0.05
	done
}

# in the sandbox: sbx COMMAND...
sbx() { ip netns exec "$SBX" "$@"; }

net_down() {
	local p
	for p in "${NET_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${NET_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	NET_PIDS=()
	ip netns del "$SBX" 2>/dev/null
	ip netns del "$CORP" 2>/dev/null
	return 0
}
