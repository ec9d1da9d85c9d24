# live.sh: part 2 of the bench, sourced by run.sh. Live traffic on two paths, N exact rules,
# every packet matching a rule (destinations: 1,024 rules of the N, at random):
#
#  sandbox egress: udpflood in the sandbox namespace, sendmmsg(), 64-byte frames, out of sbx0
#    (10.42.0.2) over a veth to host0 in the corp namespace, where a blackhole route drops
#    them after the IP layer has counted them. The filter: none, the empty program or the
#    pipeline at in-sandbox tc egress (sbx0) and at host-side tc ingress (host0), the
#    generated if-chain at sbx0, nftables (a set) and iptables (a linear chain, nf_tables and
#    legacy back ends) in the sandbox's OUTPUT hook. The sender's CPU carries the whole path:
#    veth hands the frame to host0's backlog and the same CPU processes it on its way out
#    of the send call.
#  host side: XDP live frames (BPF_PROG_TEST_RUN) out of sbx0 into host0 at line rate:
#    they leave through ndo_xdp_xmit, so the sandbox's tc egress and netfilter never see
#    them. The filter: none, the empty program or the pipeline at host0's XDP hook and tc
#    ingress. The pipeline at XDP comes with tc ingress behind it, as install requires (XDP
#    does not see VLAN tags carried beside the frame): an allowed frame pays for both.
#
# A packet counts as delivered when the corp namespace's IP layer received it (InReceives of
# /proc/net/snmp there): after every filter on the way. Rate = delivered / sender's seconds.

LIVE_CSV=live.csv
LIVE_CPU=${LIVE_CPU:-$(($(nproc) - 1))} # the sender (and the softirq it triggers) on one CPU
LIVE_DESTS=1024

inreceives() {
	ip netns exec "$LV_C" awk '/^Ip: [0-9]/ { print $4 }' /proc/net/snmp
}

# live_runs PATH FILTER WHERE N SETUP_S: LIVE_RUNS runs of the sender, one CSV row
live_runs() {
	local path=$1 filter=$2 where=$3 n=$4 setup=$5 r before after out rates=() sents=() note=
	for r in $(seq "$LIVE_RUNS"); do
		before=$(inreceives)
		if [ "$path" = sandbox ]; then
			out=$(ip netns exec "$LV_S" taskset -c "$LIVE_CPU" "$UDPF" --n "$n" \
				--dests "$LIVE_DESTS" --count "$LIVE_COUNT" --seconds "$LIVE_SECONDS" 2>"$WORK/err") ||
				{ note="sender failed: $(tr ',\n' '; ' <"$WORK/err")"; break; }
			# sent,errors,seconds,cpu_seconds: keep sent,seconds
			out="$(echo "$out" | cut -d, -f1,3)"
		elif [ "$path" = host-pktgen ]; then
			out=$(pktgen_run "$n") || { note="pktgen failed: $(tr ',\n' '; ' <"$WORK/err")"; break; }
		else
			out=$(taskset -c "$LIVE_CPU" "$ICB" xdpgen --dev sbx0 --netns "$LV_S" \
				--dst-mac "$LV_HOSTMAC" --set exact --n "$n" --mix --count "$LIVE_COUNT" \
				--seconds "$LIVE_SECONDS" 2>"$WORK/err") ||
				{ note="generator failed: $(tr ',\n' '; ' <"$WORK/err")"; break; }
			# frames,seconds,cpu_seconds: keep frames,seconds
			out="$(echo "$out" | cut -d, -f1,2)"
		fi
		after=$(inreceives)
		rates+=("$(awk "BEGIN { printf \"%.0f\", ($after - $before) / ${out##*,} }")")
		sents+=("$(awk "BEGIN { printf \"%.0f\", ${out%%,*} / ${out##*,} }")")
	done
	if [ ${#rates[@]} = 0 ]; then
		echo "$path,$filter,$where,$n,0,,,,,$setup,$note" >>"$OUT/$LIVE_CSV"
		say live "$path $filter@$where n=$n: $note"
		return
	fi
	local sorted med mn mx smed
	sorted=$(printf '%s\n' "${rates[@]}" | sort -n)
	mn=$(echo "$sorted" | head -1)
	mx=$(echo "$sorted" | tail -1)
	med=$(echo "$sorted" | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }')
	smed=$(printf '%s\n' "${sents[@]}" | sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }')
	echo "$path,$filter,$where,$n,${#rates[@]},$med,$mn,$mx,$smed,$setup,$note" >>"$OUT/$LIVE_CSV"
	say live "$path $filter@$where n=$n: $med pps delivered ($mn-$mx), $smed sent $note"
}

# pktgen_run N: the kernel's packet generator out of sbx0, one matching destination (pktgen
# draws addresses and ports independently, so a mix would not match the rules); prints
# frames,seconds. Only where the kernel has pktgen (CONFIG_NET_PKTGEN).
pktgen_run() {
	local n=$1 i=$(($1 / 2)) pg=/proc/net/pktgen res
	ip netns exec "$LV_S" sh -c "
		echo rem_device_all >$pg/kpktgend_$LIVE_CPU &&
		echo 'add_device sbx0' >$pg/kpktgend_$LIVE_CPU &&
		echo 'count $LIVE_COUNT' >$pg/sbx0 && echo 'pkt_size 64' >$pg/sbx0 &&
		echo 'clone_skb 0' >$pg/sbx0 && echo 'delay 0' >$pg/sbx0 &&
		echo 'dst_mac $LV_HOSTMAC' >$pg/sbx0 && echo 'src_min 10.42.0.2' >$pg/sbx0 &&
		echo 'src_max 10.42.0.2' >$pg/sbx0 &&
		echo 'dst $(printf '10.%d.%d.%d' $((64 + (i >> 16))) $(((i >> 8) & 255)) $((i & 255)))' >$pg/sbx0 &&
		echo 'udp_dst_min $((1024 + i % 64))' >$pg/sbx0 && echo 'udp_dst_max $((1024 + i % 64))' >$pg/sbx0 &&
		timeout $(awk "BEGIN { print int($LIVE_SECONDS) + 10 }") sh -c 'echo start >$pg/pgctrl'" 2>"$WORK/err" || return 1
	# Result: OK: <usec>(c..+d..) usec, <frames> (64byte,0frags)
	res=$(ip netns exec "$LV_S" grep -o 'OK: [0-9]*([^)]*) usec, [0-9]*' "$pg/sbx0") || return 1
	echo "$res" | awk '{ split($2, u, "("); print $NF "," u[1] / 1e6 }'
}

live_skip() { # PATH FILTER WHERE N WHY
	echo "$1,$2,$3,$4,0,,,,,,$5" >>"$OUT/$LIVE_CSV"
	say live "$1 $2@$3 n=$4: $5"
}

# timed CMD...: runs it, sets LV_T to its seconds
timed() {
	local t0 t1 rc=0
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>"$WORK/err" || rc=$?
	t1=$(date +%s.%N)
	LV_T=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
	return $rc
}

live_net_up() {
	LV_S=${PFX}s
	LV_C=${PFX}c
	netns "$LV_S"
	netns "$LV_C"
	ip link add sbx0 netns "$LV_S" type veth peer name host0 netns "$LV_C"
	ip -n "$LV_S" addr add 10.42.0.2/24 dev sbx0
	ip -n "$LV_C" addr add 10.42.0.1/24 dev host0
	ip -n "$LV_S" link set sbx0 up
	ip -n "$LV_C" link set host0 up
	ip -n "$LV_S" route add default via 10.42.0.1
	LV_HOSTMAC=$(ip -n "$LV_C" link show host0 | awk '/link\/ether/ { print $2 }')
	# no ARP on the way: the if-chain and the empty program do not know it
	ip -n "$LV_S" neigh replace 10.42.0.1 lladdr "$LV_HOSTMAC" dev sbx0 nud permanent
	# the corp side drops what arrives after counting it (no ICMP back)
	ip -n "$LV_C" route add blackhole 10.64.0.0/10
	# veth takes frames from ndo_xdp_xmit only with NAPI on: GRO, or an XDP program
	ip netns exec "$LV_C" ethtool -K host0 gro on >/dev/null
}

# live_filter_up PATH FILTER WHERE N: sets the filter up; LV_T its setup time
live_filter_up() {
	local filter=$2 where=$3 n=$4
	LV_T=
	case $filter:$where in
	none:*) ;;
	empty:sbx-tc-egress)
		timed "$ICB" attach --obj "$BENCH_OBJ" --prog empty_tc --netns "$LV_S" --dev sbx0 \
			--hook tcx-egress --pin "$PINS/live" ;;
	empty:host-tc-ingress)
		timed "$ICB" attach --obj "$BENCH_OBJ" --prog empty_tc --netns "$LV_C" --dev host0 \
			--hook tcx-ingress --pin "$PINS/live" ;;
	empty:host-xdp)
		timed "$ICB" attach --obj "$BENCH_OBJ" --prog empty_xdp --netns "$LV_C" --dev host0 \
			--hook xdp --pin "$PINS/live" ;;
	ifchain:sbx-tc-egress)
		timed "$ICB" attach --obj "$LV_IFC" --prog ifchain --netns "$LV_S" --dev sbx0 \
			--hook tcx-egress --pin "$PINS/live" ;;
	pipeline:sbx-tc-egress)
		timed "$BIN" install --profile "$LV_PROF" --tc "sbx0@$LV_S" --name "$LV_INST" ;;
	pipeline:host-tc-ingress)
		timed "$BIN" install --profile "$LV_PROF" --tc-ingress "host0@$LV_C" \
			--sandbox-netns "$LV_S" --name "$LV_INST" ;;
	pipeline:host-xdp)
		timed "$BIN" install --profile "$LV_PROF" --xdp "host0@$LV_C" \
			--tc-ingress "host0@$LV_C" --sandbox-netns "$LV_S" --name "$LV_INST" ;;
	nftables:sbx-output)
		"$ICB" gen-nft "$n" sbx0 "$WORK/live.nft"
		timed ip netns exec "$LV_S" nft -f "$WORK/live.nft" ;;
	iptables:sbx-output | iptables-legacy:sbx-output)
		"$ICB" gen-iptables "$n" sbx0 "$WORK/live.ipt"
		timed ip netns exec "$LV_S" "$filter-restore" "$WORK/live.ipt" ;;
	esac
}

live_filter_down() {
	local filter=$1
	rm -f "$PINS/live"
	case $filter in
	pipeline) "$BIN" uninstall --name "$LV_INST" >/dev/null 2>&1 || true ;;
	nftables | iptables) ip netns exec "$LV_S" nft flush ruleset ;;
	iptables-legacy)
		ip netns exec "$LV_S" iptables-legacy -F
		ip netns exec "$LV_S" iptables-legacy -X ;;
	esac
}

live_one() { # PATH FILTER WHERE N
	if [ "$2" = pipeline ] && [ "$3" = host-xdp ] && [ "$HAVE_XDP" = 0 ]; then
		live_skip "$1" "$2" "$3" "$4" "skipped: this build has no --xdp"
		return
	fi
	if [ "$2" = ifchain ] && [ -z "$LV_IFC" ]; then
		live_skip "$1" "$2" "$3" "$4" "skipped: $LV_IFC_WHY"
		return
	fi
	if [ "$2" = iptables-legacy ] && ! ip netns exec "$LV_S" iptables-legacy -S >/dev/null 2>&1; then
		live_skip "$1" "$2" "$3" "$4" "skipped: no iptables-legacy (x_tables) in this kernel"
		return
	fi
	if live_filter_up "$@"; then
		live_runs "$@" "$LV_T"
	else
		live_skip "$1" "$2" "$3" "$4" "setup failed: $(tr ',\n' '; ' <"$WORK/err")"
	fi
	live_filter_down "$2"
}

live_all() {
	local n f
	LV_INST=${PFX}l
	INSTANCES+=("$LV_INST")
	{
		header
		echo "path,filter,where,n,runs,pps,pps_min,pps_max,sent_pps,setup_s,note"
	} >"$OUT/$LIVE_CSV"
	live_net_up
	for n in $LIVE_NS; do
		LV_PROF=$WORK/live_prof_$n
		mkdir -p "$LV_PROF"
		"$ICB" gen-profile exact "$n" "$LV_PROF/10-exact.rules"
		# part 1 found where the if-chain stops: build it only below that
		local row
		row=$(grep "^tc,chain,$n," "$OUT/$LIMITS_CSV" | head -1)
		case $row in
		"" | *,ok,*) IFC_LIMITS=0 ifc_build tc chain "$n" ;;
		*) IFC_OBJ= IFC_WHY=$(echo "$row" | cut -d, -f10-) ;;
		esac
		LV_IFC=$IFC_OBJ
		LV_IFC_WHY=$IFC_WHY
		for f in none:none empty:sbx-tc-egress pipeline:sbx-tc-egress empty:host-tc-ingress \
			pipeline:host-tc-ingress ifchain:sbx-tc-egress nftables:sbx-output \
			iptables:sbx-output iptables-legacy:sbx-output; do
			live_one sandbox "${f%%:*}" "${f#*:}" "$n"
		done
		for f in none:none empty:host-xdp pipeline:host-xdp empty:host-tc-ingress \
			pipeline:host-tc-ingress; do
			live_one host "${f%%:*}" "${f#*:}" "$n"
		done
		if ip netns exec "$LV_S" test -e /proc/net/pktgen/pgctrl; then
			for f in none:none empty:host-xdp pipeline:host-xdp empty:host-tc-ingress \
				pipeline:host-tc-ingress; do
				live_one host-pktgen "${f%%:*}" "${f#*:}" "$n"
			done
		else
			live_skip host-pktgen all all "$n" "skipped: no pktgen in this kernel (CONFIG_NET_PKTGEN)"
		fi
		rm -rf "$LV_PROF" "$LV_IFC"
	done
}
