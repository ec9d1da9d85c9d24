#!/usr/bin/env bash
# live_ab.sh BUILD: the live targets of issue 15, each ratio from one run (make bench-live).
#
# Every filter under test gets its own pair of namespaces (sandbox S, corp C, a veth sbx0 ==
# host0 between them), all set up once; then LIVE_ROUNDS rounds, each LIVE_REPS passes over
# every variant in a rotated order (each variant takes each place in turn), one short run a
# pass: LIVE_COUNT frames (host side: XDP live frames out of sbx0, `icbench xdpgen`) or
# LIVE_SCOUNT datagrams (sandbox path: `udpflood` in S), at most 1 s, the sender pinned to
# LIVE_CPU. The rate of a run is the frames delivered (InReceives of C's IP layer) per CPU
# second of the sending thread: the receive side's softirq work runs on that thread's way
# out of its system call and is charged to it, time other tasks or the hypervisor take is
# not (the wall-clock rate is kept beside it). A round's rate of a variant is the median of
# its passes; its ratio is that against the empty program of the same hook in the same
# round; the figure is the median of the rounds' ratios and their whole range. An A/A per
# hook (a second empty program against the first) is the noise floor. Then, with
# kernel.bpf_stats_enabled=1 (restored after; it adds two clock reads to every program run,
# so the rates are measured without it), the attached programs' run_time_ns / run_cnt.
# LIVE_PARTS=1 adds the parts of the pipeline's front as variants (bench-only programs in
# bench_progs.bpf.c: an entry tail-calling the empty program, the empty program growing the
# XDP metadata (20 bytes; 28 with a mark: markmeta), an empty tc ingress program behind the
# empty XDP one (tcbehind), the one-pass mark's shape with nothing judged (mark: markmeta and
# a tc program checking the mark), the empty program slowed by a chain of multiplications
# with no more code or data (spin32, spin64) and as slow through several KB of straight code
# (wide); the pipeline at XDP without its tc ingress pass,
# and the pipeline without host0's layer-2 entry (its checks skipped), LIVE_PARTS_N rules:
# neither a valid install).
# LIVE_BASE=DIR (a build directory of another revision) adds its pipeline at each N on the host
# side as variants too ("base"), interleaved with this build's: this build against it, per round.
# Writes $LIVE_OUT (default bench/results/live_ab): runs.csv, live_ab.csv, live_ab.md.
# Everything made here is removed on exit; traffic stays inside the namespaces made here.
set -eu
BUILD=${1:-build}
BIN=$BUILD/ironclaw-pipe
ICB=$BUILD/bench/icbench
UDPF=$BUILD/bench/udpflood
OBJ=$BUILD/bench/bench_progs.bpf.o
OUT=${LIVE_OUT:-bench/results/live_ab}
ROUNDS=${LIVE_ROUNDS:-9}
REPS=${LIVE_REPS:-15}
COUNT=${LIVE_COUNT:-50000}
SCOUNT=${LIVE_SCOUNT:-20000}
NS_LIST=${LIVE_NS:-10 1000 10000 100000}
HOOKS=${LIVE_HOOKS:-xdp tc sbx}
CPU=${LIVE_CPU:-$(($(nproc) - 1))}
DESTS=1024
PFX=ila$$
PINS=/sys/fs/bpf/$PFX
WORK=$(mktemp -d)
. "$(dirname "$0")/common.sh"
BASE=${LIVE_BASE:-}
UNINSTALLERS=("$BIN" ${BASE:+"$BASE/ironclaw-pipe"})

say() { printf '  %-8s %s\n' "$1" "$2" >&2; }

[ "$(id -u)" = 0 ] || { echo "live_ab.sh: needs root" >&2; exit 1; }
mkdir -p "$OUT" "$PINS"

# variants: name, hook (xdp, tc: host side; sbx: the sandbox path), what (empty1, empty2,
# pipeline), N; index k: namespaces ${PFX}${k}s and ${PFX}${k}c
V_NAME=()
V_HOOK=()
V_WHAT=()
V_N=()
V_MAC=()

# pair K: the namespaces and the veth of variant K
pair() {
	local s=${PFX}${1}s c=${PFX}${1}c
	sandbox_veth "$s" "$c"
	ip -n "$s" route add default via 10.42.0.1
	V_MAC[$1]=$(ip -n "$c" link show host0 | awk '/link\/ether/ { print $2 }')
	ip -n "$s" neigh replace 10.42.0.1 lladdr "${V_MAC[$1]}" dev sbx0 nud permanent
	ip -n "$c" route add blackhole 10.64.0.0/10
	# veth takes frames from ndo_xdp_xmit only with NAPI on: GRO, or an XDP program
	ip netns exec "$c" ethtool -K host0 gro on >/dev/null
}

# variant HOOK WHAT N: sets it up
variant() {
	local k=${#V_NAME[@]} hook=$1 what=$2 n=$3 s c
	s=${PFX}${k}s
	c=${PFX}${k}c
	V_NAME[k]=$hook-$what${n:+-$n}
	V_HOOK[k]=$hook
	V_WHAT[k]=$what
	V_N[k]=${n:-0}
	pair "$k"
	case $hook:$what in
	xdp:empty*)
		"$ICB" attach --obj "$OBJ" --prog empty_xdp --netns "$c" --dev host0 --hook xdp \
			--pin "$PINS/$k" ;;
	tc:empty*)
		"$ICB" attach --obj "$OBJ" --prog empty_tc --netns "$c" --dev host0 --hook tcx-ingress \
			--pin "$PINS/$k" ;;
	sbx:empty*)
		"$ICB" attach --obj "$OBJ" --prog empty_tc --netns "$s" --dev sbx0 --hook tcx-egress \
			--pin "$PINS/$k" ;;
	xdp:entry)
		"$ICB" attach --obj "$OBJ" --prog tail_xdp --tail empty_xdp --netns "$c" --dev host0 \
			--hook xdp --pin "$PINS/$k" ;;
	xdp:meta)
		"$ICB" attach --obj "$OBJ" --prog meta_xdp --netns "$c" --dev host0 --hook xdp \
			--pin "$PINS/$k" ;;
	xdp:tcbehind)
		# the empty program at XDP and an empty program at tc ingress behind it
		"$ICB" attach --obj "$OBJ" --prog empty_xdp --netns "$c" --dev host0 --hook xdp \
			--pin "$PINS/$k"
		"$ICB" attach --obj "$OBJ" --prog empty_tc --netns "$c" --dev host0 \
			--hook tcx-ingress --pin "$PINS/${k}t" ;;
	xdp:mark)
		# the one-pass mark's shape, nothing judged: 28 bytes of metadata with a mark at
		# XDP, the mark checked at tc ingress (a frame without it dropped)
		"$ICB" attach --obj "$OBJ" --prog markmeta_xdp --netns "$c" --dev host0 --hook xdp \
			--pin "$PINS/$k"
		"$ICB" attach --obj "$OBJ" --prog mark_tc --netns "$c" --dev host0 \
			--hook tcx-ingress --pin "$PINS/${k}t" ;;
	xdp:spin32 | xdp:spin64 | xdp:wide)
		"$ICB" attach --obj "$OBJ" --prog "${what}_xdp" --netns "$c" --dev host0 --hook xdp \
			--pin "$PINS/$k" ;;
	tc:spin32 | tc:spin64 | tc:wide)
		"$ICB" attach --obj "$OBJ" --prog "${what}_tc" --netns "$c" --dev host0 \
			--hook tcx-ingress --pin "$PINS/$k" ;;
	xdp:markmeta)
		"$ICB" attach --obj "$OBJ" --prog markmeta_xdp --netns "$c" --dev host0 --hook xdp \
			--pin "$PINS/$k" ;;
	tc:entry)
		"$ICB" attach --obj "$OBJ" --prog tail_tc --tail empty_tc --netns "$c" --dev host0 \
			--hook tcx-ingress --pin "$PINS/$k" ;;
	sbx:entry)
		"$ICB" attach --obj "$OBJ" --prog tail_tc --tail empty_tc --netns "$s" --dev sbx0 \
			--hook tcx-egress --pin "$PINS/$k" ;;
	xdp:xdponly)
		# not a valid install: its tc ingress link taken away, to see what that pass costs
		host_install xdp "$WORK/p$n" "$s" "$c" "${PFX}$k"
		rm "/sys/fs/bpf/ironclaw/${PFX}$k/link-tc_ingress-host0@$c" ;;
	xdp:nol2 | tc:nol2)
		# not a valid install: host0's layer-2 entry taken away, to see what its checks cost
		host_install "$hook" "$WORK/p$n" "$s" "$c" "${PFX}$k"
		local ifx
		ifx=$(ip -n "$c" -j link show host0 | jq -r '.[0].ifindex')
		bpftool map delete pinned "/sys/fs/bpf/ironclaw/${PFX}$k/l2_links" key \
			$((ifx & 255)) $((ifx >> 8 & 255)) $((ifx >> 16 & 255)) $((ifx >> 24)) ;;
	xdp:pipeline | tc:pipeline)
		host_install "$hook" "$WORK/p$n" "$s" "$c" "${PFX}$k" ;;
	xdp:base | tc:base)
		BIN=$BASE/ironclaw-pipe host_install "$hook" "$WORK/p$n" "$s" "$c" "${PFX}$k" ;;
	sbx:pipeline)
		INSTS+=("${PFX}$k")
		"$BIN" install --profile "$WORK/p$n" --tc "sbx0@$s" --name "${PFX}$k" >/dev/null ;;
	esac
}

inreceives() { ip netns exec "$1" awk '/^Ip: [0-9]/ { print $4 }' /proc/net/snmp; }

# pass_round R GROUP PASSES: one sender process over the variants of GROUP (host: XDP live
# frames, sandbox: udpflood), PASSES passes; appends to runs.csv (R 0: warm-up, not kept)
pass_round() {
	local r=$1 group=$2 passes=$3 k ks=() args=() before=() out
	for k in $(seq 0 $((NV - 1))); do
		if { [ "$group" = sandbox ] && [ "${V_HOOK[k]}" = sbx ]; } ||
			{ [ "$group" = host ] && [ "${V_HOOK[k]}" != sbx ]; }; then
			ks+=("$k")
			local n=${V_N[k]}
			[ "$n" != 0 ] || n=1000
			if [ "$group" = host ]; then
				args+=(--target "${PFX}${k}s,${V_MAC[k]},$n")
			else
				args+=(--target "${PFX}${k}s,$n")
			fi
		fi
	done
	[ ${#ks[@]} != 0 ] || return 0
	for k in "${ks[@]}"; do before[k]=$(inreceives "${PFX}${k}c"); done
	if [ "$group" = host ]; then
		out=$(taskset -c "$CPU" "$ICB" xdpgen "${args[@]}" --passes "$passes" --set exact --mix \
			--count "$COUNT" --seconds 1)
	else
		# pass,target,sent,errors,wall,cpu -> pass,target,sent,wall,cpu
		out=$(taskset -c "$CPU" "$UDPF" "${args[@]}" --passes "$passes" --dests "$DESTS" \
			--count "$SCOUNT" --seconds 1 | cut -d, -f1-3,5,6)
	fi
	[ "$r" != 0 ] || return 0
	echo "$out" | awk -F, -v r="$r" -v ks="${ks[*]}" -v names="$(for k in "${ks[@]}"; do
		printf '%s,%s,%s,%s ' "${V_NAME[k]}" "${V_HOOK[k]}" "${V_WHAT[k]}" "${V_N[k]}"; done)" \
		'BEGIN { split(names, nm, " ") } { print r "," $1 "," nm[$2 + 1] "," $3 "," $4 "," $5 }' \
		>>"$OUT/runs.csv"
	# what the receiving side's IP layer got against what was sent, per variant and round
	for k in "${ks[@]}"; do
		echo "$r,${V_NAME[k]},$(($(inreceives "${PFX}${k}c") - before[k]))" >>"$WORK/delivered"
	done
}

# profiles, then the variants: per hook two empty programs (the A/A) and the pipeline at each N
for n in $NS_LIST; do
	mkdir -p "$WORK/p$n"
	"$ICB" gen-profile exact "$n" "$WORK/p$n/10-exact.rules"
done
for hook in $HOOKS; do
	variant "$hook" empty1 ""
	variant "$hook" empty2 ""
	for n in $NS_LIST; do
		variant "$hook" pipeline "$n"
		[ -z "$BASE" ] || [ "$hook" = sbx ] || variant "$hook" base "$n"
	done
	# LIVE_PARTS=1: what the pipeline's front is made of, each part against the empty program
	if [ "${LIVE_PARTS:-0}" = 1 ]; then
		variant "$hook" entry ""
		[ "$hook" != xdp ] || variant xdp meta ""
		[ "$hook" != xdp ] || variant xdp markmeta ""
		[ "$hook" != xdp ] || variant xdp tcbehind ""
		[ "$hook" != xdp ] || variant xdp mark ""
		[ "$hook" = sbx ] || variant "$hook" spin32 ""
		[ "$hook" = sbx ] || variant "$hook" spin64 ""
		[ "$hook" = sbx ] || variant "$hook" wide ""
		[ "$hook" != xdp ] || variant xdp xdponly "${LIVE_PARTS_N:-1000}"
		[ "$hook" = sbx ] || variant "$hook" nol2 "${LIVE_PARTS_N:-1000}"
	fi
done
NV=${#V_NAME[@]}
say setup "$NV variants: ${V_NAME[*]}"

{
	printf '# ironclaw-pipe live targets (bench/live_ab.sh): %s\n# machine: %s, %s cores, sender pinned to CPU %s\n# kernel: %s\n# date: %s\n# load: %s\n# rounds %s of %s passes; a run %s frames (host side), %s datagrams (sandbox path)\n' \
		"$(git describe --always --dirty 2>/dev/null || echo unknown)" "$(uname -n)" "$(nproc)" \
		"$CPU" "$(uname -sr)" "$(date -u +%FT%TZ)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
		"$ROUNDS" "$REPS" "$COUNT" "$SCOUNT"
	echo "round,pass,variant,hook,what,n,sent,wall_s,cpu_s"
} >"$OUT/runs.csv"
: >"$WORK/delivered"

# a warm-up round (not kept): maps, caches and the page pools faulted in
pass_round 0 host 2
pass_round 0 sandbox 2
for r in $(seq "$ROUNDS"); do
	pass_round "$r" host "$REPS"
	pass_round "$r" sandbox "$REPS"
	say round "$r of $ROUNDS ($(cut -d' ' -f1 /proc/loadavg) load)"
done
# delivered against sent, per variant over every round: the rates count sent frames
awk -F, 'NR == FNR { d[$2] += $3; next } !/^#/ && $1 != "round" { s[$3] += $7 }
	END { for (v in s) printf "%s,%d,%d\n", v, s[v], d[v] }' "$WORK/delivered" "$OUT/runs.csv" |
	sort >"$OUT/delivered.csv"

# one_variant K: 3 runs through variant K alone
one_variant() {
	local k=$1 n=${V_N[$1]}
	[ "$n" != 0 ] || n=1000
	if [ "${V_HOOK[k]}" = sbx ]; then
		taskset -c "$CPU" "$UDPF" --target "${PFX}${k}s,$n" --passes 3 --dests "$DESTS" \
			--count "$SCOUNT" --seconds 1 >/dev/null
	else
		taskset -c "$CPU" "$ICB" xdpgen --target "${PFX}${k}s,${V_MAC[k]},$n" --passes 3 \
			--set exact --mix --count "$COUNT" --seconds 1 >/dev/null
	fi
}

# in situ: the attached programs' own cost, with the statistics on
sysctl -qw kernel.bpf_stats_enabled=1
# progs K: ids of the programs attached on variant K's path (bpftool's net show lists no tcx)
progs() {
	local k=$1 f
	if [ "${V_HOOK[k]}" = xdp ]; then
		ip -n "${PFX}${k}c" -j link show host0 |
			jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // empty'
	fi
	for f in "$PINS/$k" "$PINS/${k}t"; do
		[ ! -e "$f" ] || bpftool -j link show pinned "$f" | jq -r '.prog_id // empty'
	done
	for f in dispatch_tc_host dispatch_tc; do
		[ ! -e "/sys/fs/bpf/ironclaw/${PFX}$k/$f" ] ||
			bpftool -j prog show pinned "/sys/fs/bpf/ironclaw/${PFX}$k/$f" | jq -r '.id // empty'
	done
}
stats() { bpftool -j prog show id "$1" | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0) \(.name)"'; }
echo "variant,prog,name,ns_per_run,runs" >"$OUT/insitu.csv"
for k in $(seq 0 $((NV - 1))); do
	ids=$(progs "$k" | sort -u)
	declare -A before=()
	for id in $ids; do before[$id]=$(stats "$id"); done
	one_variant "$k"
	for id in $ids; do
		echo "${before[$id]} $(stats "$id")" | awk -v v="${V_NAME[k]}" -v id="$id" \
			'$5 > $2 { d = $5 - $2; printf "%s,%s,%s,%.1f,%d\n", v, id, $3, ($4 - $1) / d, d }' \
			>>"$OUT/insitu.csv"
	done
	unset before
done
sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD"

bench/live_ab_report.sh "$OUT/runs.csv" "$OUT/insitu.csv" "$OUT/delivered.csv" >"$OUT/live_ab.md"
cat "$OUT/live_ab.md"
