# t_sni.sh: TLS server names bound to the names that were resolved (docs/sni.md), with real TLS.
# Debian's dnsmasq, in a namespace of its own behind the corporate one, gives one address
# (10.42.9.50) for two names, allowed.test and other.test; openssl s_server (a certificate the
# test makes) listens there in the corporate namespace. In the sandbox, openssl s_client: the
# allowed name completes its handshake, the other name on the same address does not (logged with
# reason sni and the name, in log and log --json), and 'sni off' lets any name through. The same
# for long hellos in one segment (s_client with a long ALPN list, curl through the sandbox's
# resolver) and for hellos over several segments (340-byte packets on the sandbox's route,
# counted by nft where they arrive).

area sni "" "" test_sni_real_tls

SNI_NS=${NET_PREFIX}snidns
SNI_PROFILE=$WORK/prof-sni
SNI_ADDR=10.42.9.50

# the resolver's namespace: sdn0 (corp, 10.42.6.1) --- snr0 10.42.6.53 (dnsmasq)
sni_net_up() {
	resolver_ns_up "$SNI_NS" sdn0 snr0 10.42.6 || return 1
	# listeners (s_server) take data in a SYN without a cookie: crafted Fast Open SYNs
	ip netns exec "$CORP" sysctl -qw net.ipv4.tcp_fastopen=0x602
	ip -n "$CORP" addr add "$SNI_ADDR/32" dev lo
}

sni_dnsmasq() {
	local conf=$WORK/sni-dnsmasq.conf
	{
		echo "address=/allowed.test/$SNI_ADDR"
		echo "address=/other.test/$SNI_ADDR"
		echo "local-ttl=60"
	} >"$conf"
	dnsmasq_start "$SNI_NS" 10.42.6.53 "$conf"
}

# s_server answering HTTP GETs (-www) on SNI_ADDR:443 with the test's certificate, once it listens
sni_server_start() {
	ip netns exec "$CORP" openssl s_server -accept "$SNI_ADDR:443" -cert "$WORK/sni-cert.pem" \
		-key "$WORK/sni-key.pem" -www -quiet >>"$LOGS/sni-s_server.log" 2>&1 &
	SNI_SERVER_PID=$!
	for _ in $(seq 40); do
		ip netns exec "$CORP" ss -ltn | grep -q "$SNI_ADDR:443 " && return 0
		sleep 0.05
	done
	fail "s_server did not start"
}

# a self-signed certificate for both names, and s_server
sni_server() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=allowed.test \
		-addext "subjectAltName=DNS:allowed.test,DNS:other.test" \
		-keyout "$WORK/sni-key.pem" -out "$WORK/sni-cert.pem" >/dev/null 2>&1 ||
		fail "openssl req" || return 1
	sni_server_start
}

sni_profile() {
	mkdir -p "$SNI_PROFILE"
	cat >"$SNI_PROFILE/10-dns.rules" <<-EOF
		allow udp 10.42.6.53 port 53
		allow dns *.test
	EOF
	echo "allow tcp name allowed.test port 443 $1" >"$SNI_PROFILE/20-names.rules"
}

# a new s_server: the one there answers one connection at a time, and a denied client's hello,
# resent for minutes, holds it
sni_server_again() {
	kill_tree "$SNI_SERVER_PID"
	for _ in $(seq 40); do
		ip netns exec "$CORP" ss -ltn | grep -q "$SNI_ADDR:443 " || break
		sleep 0.05
	done
	sni_server_start
}

# sni_hello NAME: s_client's handshake from the sandbox to SNI_ADDR:443 naming NAME; 0 when it
# completed (a cipher agreed), bounded to 4 s
sni_hello() {
	local out name=$1
	shift
	out=$(in_tool memscraper timeout 4 openssl s_client -connect "$SNI_ADDR:443" \
		-servername "$name" "$@" </dev/null 2>&1)
	echo "$out" >>"$LOGS/sni-s_client.log"
	echo "$out" | grep -q "^New, TLS.*Cipher is "
}

# 60 ALPN protocols of 12 bytes: s_client's hello grows to about 1,080 bytes
SNI_ALPN=$(seq -f "proto%07g" 1 60 | paste -sd,)

# sni_curl NAME [CURL-ARGS...]: curl -k https://NAME/ from the sandbox (its resolver: dnsmasq),
# bounded to 4 s
sni_curl() {
	local name=$1
	shift
	in_tool memscraper timeout 4 curl -sSk "$@" -o /dev/null "https://$name/" \
		2>>"$LOGS/sni-curl.log"
}

# sni_denied NAME: a denial with reason sni naming NAME in the ring buffer (log without a
# collector reads it and takes what it read)
sni_denied() {
	"$BIN" log --name "$INSTANCE" 2>/dev/null | grep " sni " | grep -q " server_name $1" ||
		fail "no sni denial naming $1"
}

# the sandbox's route to SNI_ADDR with 340-byte packets (mtu lock: no path MTU discovery above
# it) and no segmentation offload on sbx0, and nft counting data segments to :443 by size at host0
sni_split_up() {
	ip -n "$SBX" route add "$SNI_ADDR/32" via 10.42.0.1 dev sbx0 mtu lock 340 ||
		fail "route with mtu lock 340" || return 1
	# without segmentation offload: TCP itself cuts the segments (else one GSO packet crosses
	# the veth whole)
	ip netns exec "$SBX" ethtool -K sbx0 tso off gso off >/dev/null ||
		fail "ethtool -K sbx0 tso off gso off" || return 1
	# (counted where they arrive, beside the firewall: the sandbox's output hook sees TCP's
	# packets before they are cut)
	ip netns exec "$CORP" nft -f - <<-EOF || fail "nft counters on host0" || return 1
		table netdev sni_split {
			counter small {}
			counter big {}
			chain in {
				type filter hook ingress device host0 priority 0;
				ip protocol tcp tcp dport 443 ip length 100-340 counter name small
				ip protocol tcp tcp dport 443 ip length > 340 counter name big
			}
		}
	EOF
	defer ip netns exec "$CORP" nft delete table netdev sni_split
}

# sni_split_count MIN: since the last call, at least MIN segments to :443 of 100-340 bytes, none
# over 340 bytes; the counters are reset
sni_split_count() {
	local small big
	small=$(ip netns exec "$CORP" nft reset counter netdev sni_split small | awk '/packets/ { print $2 }')
	big=$(ip netns exec "$CORP" nft reset counter netdev sni_split big | awk '/packets/ { print $2 }')
	[ "${big:-x}" = 0 ] && [ "${small:-0}" -ge "$1" ] ||
		fail "segments to :443: $small of 100-340 bytes (want >= $1), $big over 340"
}

# ---- crafted segments (tools/rawframe's TCP flow mode): sports 40150-40159

# the sandbox's TCP does not answer the server's segments to the crafted flows (its RSTs are
# dropped), and nft at host0, after the firewall, counts each flow's data segments that passed
sni_raw_up() {
	local p
	ip netns exec "$SBX" nft -f - <<-EOF || fail "nft in the sandbox" || return 1
		table inet sni_raw {
			chain out {
				type filter hook output priority 0;
				tcp sport 40150-40159 tcp flags & rst == rst drop
			}
		}
	EOF
	defer ip netns exec "$SBX" nft delete table inet sni_raw
	{
		echo "table netdev sni_raw {"
		for p in $(seq 40150 40159); do echo "counter c$p {}"; done
		echo "counter syn_data {}"
		echo "chain in { type filter hook ingress device host0 priority 1;"
		echo "ip protocol tcp tcp dport 443 tcp flags & (syn | ack) == syn ip length > 100" \
			"counter name syn_data"
		for p in $(seq 40150 40159); do
			echo "ip protocol tcp tcp sport $p tcp dport 443 ip length > 40 counter name c$p"
		done
		echo "}"
		echo "}"
	} | ip netns exec "$CORP" nft -f - || fail "nft counters on host0" || return 1
	defer ip netns exec "$CORP" nft delete table netdev sni_raw
}

# sni_raw SPORT WANT RAWFRAME-ARGS...: a crafted flow from SPORT; rawframe's report must hold
# each line of WANT ('syn-ack N', 'acked N')
sni_raw() {
	local out sport=$1 want=$2 line
	shift 2
	out=$(ip netns exec "$SBX" "$BUILD/rawframe" sbx0 --dst-mac "$HOST_MAC" --src 10.42.0.2 \
		--dst "$SNI_ADDR" --proto tcp --dport 443 --sport "$sport" --qdisc-bypass \
		--hello-bytes 500 "$@" 2>&1) || fail "rawframe $*: $out" || return 1
	echo "$sport $*: $out" >>"$LOGS/sni-rawframe.log"
	while read -r line; do
		echo "$out" | grep -qx "$line" || fail "flow $sport ($*): want '$line', got: $out" ||
			return 1
	done <<<"$want"
}

# sni_raw_passed SPORT N: N data segments of the flow from SPORT passed the firewall
sni_raw_passed() {
	local n
	n=$(ip netns exec "$CORP" nft list counter netdev sni_raw "c$1" | awk '/packets/ { print $2 }')
	[ "${n:-x}" = "$2" ] || fail "flow $1: $n data segments passed, want $2"
}

# sni_raw_denied SPORT [NAME]: a denial with reason sni of the flow from SPORT (naming NAME)
sni_raw_denied() {
	"$BIN" log --name "$INSTANCE" 2>/dev/null | grep " sni .*10\.42\.0\.2:$1 " |
		grep -q "${2:+ server_name $2}" || fail "no sni denial of the flow from :$1 ${2:-}"
}

# A hello of 500 bytes (the name at byte 61) over segments of 100 and 400 bytes, by hand: the
# honest flow passes whole (the server acknowledges all of it); a first segment resent at the
# same sequence numbers naming another host (the decoy-then-real attack: a first copy the
# server drops, a bad checksum say, passes the check while the copy it keeps names another
# host) is denied with reason sni, and so is the rest. TCP Fast Open: the hello in the SYN.
sni_crafted_segments() {
	local n
	sni_raw_up || return 1
	in_tool memscraper getent ahosts allowed.test >/dev/null # the address stays learned
	sni_raw 40150 "syn-ack 0
acked 500" --hello allowed.test --segment 0:100 --segment 0:100 --segment 100:400 || return 1
	sni_raw_passed 40150 3 || return 1
	sni_raw 40151 "syn-ack 0
acked 100" --hello allowed.test --segment 0:100 --segment 0:100:other.test \
		--segment 100:400:other.test || return 1
	sni_raw_passed 40151 1 || return 1
	sni_raw_denied 40151 || return 1
	# after the verdict: the first segment again, naming another host
	sni_raw 40152 "syn-ack 0
acked 500" --hello allowed.test --segment 0:100 --segment 100:400 \
		--segment 0:100:other.test || return 1
	sni_raw_passed 40152 2 || return 1
	sni_raw_denied 40152 || return 1
	# Fast Open (the server takes data in a SYN without a cookie: sni_net_up): the whole
	# hello in the SYN, its first part, another name
	sni_raw 40153 "syn-ack 500
acked 500" --hello allowed.test --syn-data 500 || return 1
	sni_raw 40154 "syn-ack 100
acked 500" --hello allowed.test --syn-data 100 --segment 100:400 || return 1
	sni_raw 40155 "syn-ack none" --hello other.test --syn-data 500 || return 1
	sni_raw_denied 40155 other.test || return 1
	# a real client's Fast Open: curl's hello in its SYN (the sandbox's TCP sends data in a SYN
	# without a cookie), to a new s_server (denied clients hold the one there)
	ip netns exec "$SBX" sysctl -qw net.ipv4.tcp_fastopen=5
	defer ip netns exec "$SBX" sysctl -qw net.ipv4.tcp_fastopen=1
	sni_server_again || return 1
	ip netns exec "$CORP" nft reset counter netdev sni_raw syn_data >/dev/null
	sni_curl allowed.test --tcp-fastopen || fail "curl --tcp-fastopen https://allowed.test/" ||
		return 1
	n=$(ip netns exec "$CORP" nft list counter netdev sni_raw syn_data | awk '/packets/ { print $2 }')
	[ "${n:-0}" -ge 1 ] || fail "curl --tcp-fastopen: no SYN with data passed"
}

test_sni_real_tls() {
	local out
	command -v dnsmasq >/dev/null && command -v openssl >/dev/null && command -v curl >/dev/null &&
		command -v nft >/dev/null && command -v ethtool >/dev/null ||
		fail "dnsmasq, openssl, curl, nft and ethtool are needed" || return 1
	sni_net_up || fail "the resolver's namespace" || return 1
	sni_dnsmasq || return 1
	sni_server || return 1
	mkdir -p "/etc/netns/$SBX"
	defer rm -rf "/etc/netns/$SBX"
	echo "nameserver 10.42.6.53" >"/etc/netns/$SBX/resolv.conf"
	sni_profile ""
	install_ingress "$SNI_PROFILE" || return 1
	"$BIN" check --profile "$SNI_PROFILE" 2>&1 | grep -q "allow tcp name allowed.test port 443 (tcp/443: TLS server name checked)" ||
		fail "check: $("$BIN" check --profile "$SNI_PROFILE" 2>&1)" || return 1
	# nothing learned yet: the address is closed
	sni_hello allowed.test && fail "a handshake before the name was resolved" && return 1
	out=$(in_tool memscraper getent ahosts allowed.test) || fail "getent: $out" || return 1
	echo "$out" | grep -q "^$SNI_ADDR " || fail "getent ahosts allowed.test: $out" || return 1
	# The allowed name first: s_server answers one connection at a time, and a denied client's
	# hello is resent to it for minutes, so after a denial it answers no one (sni_server_again).
	sni_hello allowed.test || fail "s_client -servername allowed.test: no handshake" || return 1
	# hellos past the dispatcher's 512-byte pull, in one segment: s_client with 60 ALPN
	# protocols (about 1,100 bytes), curl (about 520 bytes, through the sandbox's resolver)
	sni_hello allowed.test -alpn "$SNI_ALPN" ||
		fail "s_client -alpn (a long hello) -servername allowed.test: no handshake" || return 1
	sni_curl allowed.test || fail "curl https://allowed.test/: no page" || return 1
	# hellos over several segments (340-byte packets on the sandbox's route to the address)
	sni_split_up || return 1
	sni_hello allowed.test -alpn "$SNI_ALPN" ||
		fail "a hello over several segments, allowed.test: no handshake" || return 1
	sni_split_count 3 || return 1
	sni_curl allowed.test || fail "curl https://allowed.test/, 340-byte packets: no page" ||
		return 1
	sni_split_count 2 || return 1
	# the other name on the same address: denied, in several segments too
	sni_hello other.test -alpn "$SNI_ALPN" &&
		fail "a hello over several segments, other.test: handshake completed" && return 1
	sni_split_count 3 || return 1
	sni_denied other.test || return 1
	ip -n "$SBX" route del "$SNI_ADDR/32"
	ip netns exec "$SBX" ethtool -K sbx0 tso on gso on >/dev/null
	sni_hello other.test && fail "s_client -servername other.test completed its handshake" &&
		return 1
	sni_denied other.test || return 1
	sni_hello other.test -alpn "$SNI_ALPN" &&
		fail "s_client -alpn (a long hello) -servername other.test completed its handshake" &&
		return 1
	sni_denied other.test || return 1
	sni_curl other.test && fail "curl https://other.test/ got its page" && return 1
	sni_denied other.test || return 1
	sni_hello other.test && return 1
	"$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep '"reason":"sni"' |
		grep -q '"server_name":"other.test"' || fail "log --json: no server_name" || return 1
	sni_crafted_segments || return 1
	# 'sni off': any name to the rule's addresses
	sni_profile "sni off"
	install_ingress "$SNI_PROFILE" || return 1
	sni_server_again || return 1
	in_tool memscraper getent ahosts allowed.test >/dev/null
	sni_hello other.test || fail "sni off: s_client -servername other.test: no handshake" ||
		return 1
}
