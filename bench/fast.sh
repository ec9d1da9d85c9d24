#!/usr/bin/env bash
# fast.sh BUILD [BASE_BUILD]: the fast path's targets (issue 15), every figure from this run.
# BPF_PROG_TEST_RUN rows pinned to one CPU (taskset), each an interleaved pair (icbench run
# --spread: FAST_RUNS runs of FAST_REPEAT, which goes first alternating), with the range of
# the per-run pairs; an A/A row (the empty program against itself) per hook is the noise
# floor. In-situ cost: kernel.bpf_stats_enabled=1 for the live part (XDP live frames into
# the host side of a veth), the attached program's run_time_ns / run_cnt, the pipeline and
# the empty program at XDP and at tc ingress (restored afterwards). With BASE_BUILD (a build
# directory of another revision): its dispatcher against this one's, beside base against base.
# A target is "met" only when the whole min-max range of its figure clears it.
# Writes bench/results/fast/fast.csv and fast.md (FAST_OUT=bench/results: there, kept in git,
# and the table also into bench/results/results.md). Everything made here is removed on exit;
# traffic stays inside the namespaces made here.
set -eu
BUILD=${1:-build}
BASE=${2:-}
BIN=$BUILD/ironclaw-pipe
ICB=$BUILD/bench/icbench
OBJ=$BUILD/bench/bench_progs.bpf.o
OUT=${FAST_OUT:-bench/results/fast}
RUNS=${FAST_RUNS:-9}
REPEAT=${FAST_REPEAT:-200000}
CPU=${FAST_CPU:-$(($(nproc) - 1))}
BIG=${FAST_BIG:-1000000} # rules of the large profile (0: skip it)
LIVE_COUNT=${FAST_LIVE_COUNT:-2000000}
PFX=icf$$
NS=${PFX}n
WORK=$(mktemp -d)
PINS=/sys/fs/bpf/$PFX
. "$(dirname "$0")/common.sh"
UNINSTALLERS=("$BIN" ${BASE:+"$BASE/ironclaw-pipe"})
NSS=("$NS")

say() { printf '  %-8s %s\n' "$1" "$2" >&2; }

[ "$(id -u)" = 0 ] || { echo "fast.sh: needs root" >&2; exit 1; }
mkdir -p "$OUT" "$PINS"
ip netns add "$NS"
for i in a b c d e f g h i; do
	ip -n "$NS" link add "${i}0" type veth peer name "${i}1"
	ip -n "$NS" link set "${i}0" up
	ip -n "$NS" link set "${i}1" up
done

# inst BIN NAME IFACE PROFILE: the pipeline at tc ingress and XDP of IFACE
inst() {
	INSTS+=("$2")
	"$1" install --profile "$4" --tc-ingress "$3@$NS" --xdp "$3@$NS" --source 10.42.0.2 \
		--name "$2" >/dev/null
}

pin() { echo "pin:/sys/fs/bpf/ironclaw/$1/dispatch_$2"; }

# row ID HOOK WHAT ARGS...: one interleaved pair, pinned; the line goes to fast.csv
row() {
	local id=$1 hook=$2 what=$3 r
	shift 3
	r=$(taskset -c "$CPU" "$ICB" run --spread --repeat "$REPEAT" --runs "$RUNS" "$@")
	echo "$id,$hook,$what,$r" >>"$OUT/fast.csv"
	say "$id" "$hook $what: $(echo "$r" | cut -d, -f2) ns against $(echo "$r" | cut -d, -f5), above $(echo "$r" | cut -d, -f8) ($(echo "$r" | cut -d, -f9)..$(echo "$r" | cut -d, -f10))"
}

{
	printf '# ironclaw-pipe fast path (bench/fast.sh): %s%s\n# machine: %s, %s cores, pinned to CPU %s\n# kernel: %s\n# date: %s\n# load: %s\n# runs %s of %s repeats\n' \
		"$(git describe --always --dirty 2>/dev/null || echo unknown)" "${BASE:+ against $BASE}" \
		"$(uname -n)" "$(nproc)" "$CPU" "$(uname -sr)" "$(date -u +%FT%TZ)" \
		"$(cut -d' ' -f1-3 /proc/loadavg)" "$RUNS" "$REPEAT"
	echo "id,hook,what,repeat,ns,ns_min,ns_max,base_ns,base_min,base_max,above_ns,above_min,above_max,ratio,ratio_min,ratio_max,retval"
} >"$OUT/fast.csv"

# profiles: one exact rule; 16 rules of udp/1032 for the probe stage; the large one
mkdir -p "$WORK/p1" "$WORK/probe" "$WORK/noop" "$WORK/count"
"$ICB" gen-profile exact 1 "$WORK/p1/10-exact.rules"
for i in $(seq 0 15); do echo "allow udp 10.64.0.$i port 1032"; done >"$WORK/probe/50-probe.rules"
cp "$WORK/probe/50-probe.rules" "$WORK/noop/50-probe.rules"
cp "$WORK/probe/50-probe.rules" "$WORK/count/50-probe.rules"
# the same 16 rules, the probe frame's first (baked in rule order): the walk to the ninth entry
mkdir -p "$WORK/first"
for i in 8 $(seq 0 7) $(seq 9 15); do echo "allow udp 10.64.0.$i port 1032"; done >"$WORK/first/50-probe.rules"
install -m 0644 "$BUILD/bench/stage_probe.bpf.o" "$WORK/probe/50-probe.bpf.o"
install -m 0644 "$BUILD/bench/stage_probe_noop.bpf.o" "$WORK/noop/50-probe.bpf.o"
install -m 0644 "$BUILD/bench/stage_probe_count.bpf.o" "$WORK/count/50-probe.bpf.o"
install -m 0644 "$BUILD/bench/stage_probe.bpf.o" "$WORK/first/50-probe.bpf.o"

inst "$BIN" "${PFX}a" a0 "$WORK/p1"
inst "$BIN" "${PFX}p" b0 "$WORK/probe"
inst "$BIN" "${PFX}o" c0 "$WORK/noop"
inst "$BIN" "${PFX}k" e0 "$WORK/count"
inst "$BIN" "${PFX}w" h0 "$WORK/first"
[ -z "$BASE" ] || inst "$BASE/ironclaw-pipe" "${PFX}x" d0 "$WORK/p1"
[ -z "$BASE" ] || inst "$BASE/ironclaw-pipe" "${PFX}y" f0 "$WORK/p1"
if [ -n "$BASE" ]; then
	mkdir -p "$WORK/baseprobe"
	cp "$WORK/probe/50-probe.rules" "$WORK/baseprobe/50-probe.rules"
	install -m 0644 "$BASE/bench/stage_probe.bpf.o" "$WORK/baseprobe/50-probe.bpf.o"
	inst "$BASE/ironclaw-pipe" "${PFX}z" i0 "$WORK/baseprobe"
fi
for hook in tc xdp; do
	row aa "$hook" "empty against empty (noise floor)" --prog "obj:$OBJ:empty_$hook" \
		--base "obj:$OBJ:empty_$hook" --set exact --n 1 --hit --hot
	row allow "$hook" "allowed: 1 exact rule; hot; against empty" --prog "$(pin "${PFX}a" "$hook")" \
		--set exact --n 1 --hit --hot
	row deny "$hook" "denied: 1 exact rule; hot; against empty" --prog "$(pin "${PFX}a" "$hook")" \
		--set exact --n 1 --miss --hot
	# the probe frame: 10.64.0.8 port 1032 (rule 8 of 16 of exact's rule set)
	row small "$hook" "16-rule stage against a no-op stage" --prog "$(pin "${PFX}p" "$hook")" \
		--base "$(pin "${PFX}o" "$hook")" --set exact --n 16 --hit --hot
	row count "$hook" "stage counting a fixed rule (no lookup) against a no-op stage" \
		--prog "$(pin "${PFX}k" "$hook")" --base "$(pin "${PFX}o" "$hook")" --set exact --n 16 --hit --hot
	row walk "$hook" "16-rule stage: the frame's rule the ninth against the first" \
		--prog "$(pin "${PFX}p" "$hook")" --base "$(pin "${PFX}w" "$hook")" --set exact --n 16 --hit --hot
	row noop "$hook" "no-op stage against empty" --prog "$(pin "${PFX}o" "$hook")" \
		--set exact --n 16 --hit --hot
	if [ -n "$BASE" ]; then
		row baseaa "$hook" "base against base" --prog "$(pin "${PFX}y" "$hook")" \
			--base "$(pin "${PFX}x" "$hook")" --set exact --n 1 --hit --hot
		row ab "$hook" "this build against base" --prog "$(pin "${PFX}a" "$hook")" \
			--base "$(pin "${PFX}x" "$hook")" --set exact --n 1 --hit --hot
		row smallab "$hook" "the 16-rule stage's pipeline: this build against base" \
			--prog "$(pin "${PFX}p" "$hook")" --base "$(pin "${PFX}z" "$hook")" --set exact --n 16 --hit --hot
	fi
done

# the large profile: random destinations, beside the latency of a miss over the map's size
if [ "$BIG" != 0 ]; then
	mkdir -p "$WORK/big"
	"$ICB" gen-profile exact "$BIG" "$WORK/big/10-exact.rules"
	inst "$BIN" "${PFX}b" g0 "$WORK/big"
	# one pass over the fresh table first, not counted: the first random pass after an install
	# costs about 6 us a 4 KB page of the table once (in either hook, 2026-12-06 12:08 UTC:
	# xdp first 211 (189..661), then tc 218 (176..239), tc 180, xdp 224), the steady state after
	taskset -c "$CPU" "$ICB" run --repeat "$REPEAT" --runs 1 --prog "$(pin "${PFX}b" tc)" \
		--set exact --n "$BIG" --hit --mix >/dev/null
	# the stage's rule maps (its IPv4 rules of every process are in rules4-, the rest in rules-)
	mem=0
	for m in rules-internal rules4-internal; do
		[ -e "/sys/fs/bpf/ironclaw/${PFX}b/$m" ] || continue
		mem=$((mem + $(bpftool -j map show pinned "/sys/fs/bpf/ironclaw/${PFX}b/$m" |
			sed 's/.*"bytes_memlock":\([0-9]*\).*/\1/')))
	done
	# chase HOOK: the latency of a miss over the map's size, measured beside HOOK's rows (the
	# machine's memory latency drifts with its load: a figure from another minute is another one)
	chase() {
		local r
		r=$(taskset -c "$CPU" "$ICB" chase --bytes "$mem" --runs "$RUNS")
		echo "chase,$1,memory latency over $mem bytes (the rule map) beside $1's rows,,${r%%,*},$(echo "$r" | cut -d, -f2),${r##*,},,,,,,,,,," >>"$OUT/fast.csv"
		say chase "$1: $mem bytes: ${r%%,*} ns a load"
	}
	for hook in tc xdp; do
		row bighot "$hook" "allowed: $BIG rules; hot; against empty" --prog "$(pin "${PFX}b" "$hook")" \
			--set exact --n "$BIG" --hit --hot
		chase "$hook"
		row bigmix "$hook" "allowed: $BIG rules; random; against empty" --prog "$(pin "${PFX}b" "$hook")" \
			--set exact --n "$BIG" --hit --mix
		row bigdeny "$hook" "denied: $BIG rules; random; against empty" --prog "$(pin "${PFX}b" "$hook")" \
			--set exact --n "$BIG" --miss --mix
	done
	# the lookup's own parts, from a BPF program (bench/memchase.c; one dependent step a
	# repetition, random minus hot): a hash map of rules4's shape (its max_entries, so its
	# bucket array), an array of its bucket array's size, and what an open-addressed table
	# of 32-byte slots would cost instead; only while rules4 is a hash map (a build whose
	# rules4 is the open-addressed table, include/rule_table.h, has its cost in bigmix itself)
	max4=$(bpftool -j map show pinned "/sys/fs/bpf/ironclaw/${PFX}b/rules4-internal" 2>/dev/null |
		jq -r 'if .type == "hash" then .max_entries // 0 else 0 end')
	nb=1
	while [ "$nb" -lt "${max4:-0}" ]; do nb=$((nb * 2)); done
	: >"$WORK/parts.csv"
	[ "${max4:-0}" -gt "$BIG" ] && [ "$BIG" -ge 2 ] &&
		! taskset -c "$CPU" "$BUILD/bench/memchase" --runs "$RUNS" --repeat "$REPEAT" \
			"hash:24:$BIG:$max4:count" "arr:16:$nb" "oa:$BIG:$nb" 2>/dev/null >"$WORK/parts.csv" &&
		say lookup "memchase failed: no lookup, buckets, oa rows"
	[ -s "$WORK/parts.csv" ] && for p in "0 lookup the rules4 lookup alone (a hash map of its shape; counted)" \
		"1 buckets a miss in an array of its bucket array's size" \
		"2 oa an open-addressed table instead (32-byte slots; linear probing)"; do
		set -- $p
		i=$1 id=$2
		shift 2
		r=$(awk -F, -v i="$i" 'index($1, i ":") == 1 && $1 ~ /\/hot$/ { h[$2] = $3 }
			index($1, i ":") == 1 && $1 ~ /\/random$/ { print $3 - h[$2] }' "$WORK/parts.csv" |
			sort -n | awk '{ v[NR] = $1 } END { printf "%.1f,%.1f,%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }')
		echo "$id,-,$* (random - hot of a dependent chain),,$r,,,,,,,,,," >>"$OUT/fast.csv"
		say "$id" "$*: ${r%%,*} ns a step"
	done
	"$BIN" uninstall --name "${PFX}b" >/dev/null
fi

# in situ: the attached program's own statistics under live frames
S=${PFX}s
C=${PFX}c
sandbox_veth "$S" "$C"
ip -n "$C" route add blackhole 10.64.0.0/10
ip netns exec "$C" ethtool -K host0 gro on >/dev/null
HOSTMAC=$(ip -n "$C" link show host0 | awk '/link\/ether/ { print $2 }')
sysctl -qw kernel.bpf_stats_enabled=1

# prog_stats ID: run_time_ns run_cnt
prog_stats() {
	bpftool -j prog show id "$1" | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'
}
# attached_id xdp|tc: the program at host0's hook (XDP: libxdp's dispatcher when there is
# one; tc: the empty program's link, else the pipeline's dispatcher at host-side tc ingress)
attached_id() {
	if [ "$1" = xdp ]; then
		ip -n "$C" -j link show host0 | jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // empty'
	elif [ -e "$PINS/live" ]; then
		bpftool -j link show pinned "$PINS/live" | jq -r '.prog_id // empty'
	else
		bpftool -j prog show pinned "/sys/fs/bpf/ironclaw/${PFX}l/dispatch_tc_host" | jq -r '.id // empty'
	fi
}
# insitu WHAT HOOK N: live frames (N rules, random destinations) for FAST_RUNS runs
insitu() {
	local what=$1 hook=$2 n=$3 id v a b k vals=()
	id=$(attached_id "$hook")
	[ -n "$id" ] || { say insitu "$what at $hook: no program found attached"; return; }
	for k in $(seq "$RUNS"); do
		a=$(prog_stats "$id")
		taskset -c "$CPU" "$ICB" xdpgen --dev sbx0 --netns "$S" --dst-mac "$HOSTMAC" --set exact \
			--n "$n" --mix --count "$LIVE_COUNT" --seconds 1 >/dev/null
		b=$(prog_stats "$id")
		v=$(echo "$a $b" | awk '{ printf "%.1f", ($3 - $1) / ($4 - $2) }')
		vals+=("$v")
	done
	v=$(printf '%s\n' "${vals[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%s,%s,%s", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }')
	echo "insitu-$what,$hook,$what n=$n (run_time_ns / run_cnt),,$v,,,,,,,,,," >>"$OUT/fast.csv"
	say insitu "$hook $what n=$n: $v ns a packet (median,min,max)"
}
mkdir -p "$WORK/live"
"$ICB" gen-profile exact 1000 "$WORK/live/10-exact.rules"
for hook in xdp tc; do
	if [ "$hook" = xdp ]; then
		"$ICB" attach --obj "$OBJ" --prog empty_xdp --netns "$C" --dev host0 --hook xdp --pin "$PINS/live"
	else
		"$ICB" attach --obj "$OBJ" --prog empty_tc --netns "$C" --dev host0 --hook tcx-ingress --pin "$PINS/live"
	fi
	insitu empty "$hook" 1000
	rm -f "$PINS/live"
	host_install "$hook" "$WORK/live" "$S" "$C" "${PFX}l"
	insitu pipeline "$hook" 1000
	"$BIN" uninstall --name "${PFX}l" >/dev/null
done
sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD"

bench/fast_report.sh "$OUT/fast.csv" >"$OUT/fast.md"
cat "$OUT/fast.md"
# kept: the table into results.md too, between its markers (report.sh puts them back on a full run)
if [ "$OUT" = bench/results ]; then
	md=bench/results/results.md
	grep -q '<!-- fast:begin -->' "$md" || printf '\n<!-- fast:begin -->\n<!-- fast:end -->\n' >>"$md"
	awk -v c="$OUT/fast.md" '
		index($0, "<!-- fast:begin -->") { print; print ""; print "### Fast path (issue 15): `make bench-fast`, [fast.csv](fast.csv)"; print ""
			while ((getline l < c) > 0) print l; skip = 1; next }
		index($0, "<!-- fast:end -->") { skip = 0 }
		!skip { print }' "$md" >"$md.new" && mv "$md.new" "$md"
fi
