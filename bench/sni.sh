#!/usr/bin/env bash
# sni.sh BUILD: what the https stage's TLS server-name check costs (issue 16, docs/sni.md),
# with BPF_PROG_TEST_RUN on the real pipeline (dispatcher, https stage) at tc and at
# cgroup_skb egress. Two instances of one profile: `checked` (a name rule on tcp/443, a
# rule by address beside it) and `off` (the same with `sni off`: no name rule checked).
# api.example.com is learned in each as the pipeline learns it (a query through host-side
# tc ingress, the answer through the learning program: bench/snibench learn). Rows, each
# an interleaved pair pinned to one CPU (SNI_RUNS runs, which goes first alternating):
# per packet, the data of a flow whose hello was allowed, against the same segment of an
# unchecked flow ('sni off', a rule by address) and against another checked flow (A/A);
# per new flow, its SYN and its hello (one segment, repeated: each copy is judged again),
# hot; and whole new flows one by one (SYN, the hello in segments of an MSS, the first
# data: single runs, cold), a 321-byte hello and a 1,737-byte one (a post-quantum key
# share). And the instructions the verifier processed for each instance's programs.
# Writes bench/results/sni/sni.csv, sni_insns.csv and sni.md (SNI_OUT=bench/results: there,
# kept in git). About a minute.
# Everything made here is removed on exit; no packet is sent.
set -eu
BUILD=${1:-build}
BIN=$BUILD/ironclaw-pipe
SB=$BUILD/bench/snibench
OUT=${SNI_OUT:-bench/results/sni}
RUNS=${SNI_RUNS:-9}
REPEAT=${SNI_REPEAT:-200000}
FLOWS=${SNI_FLOWS:-200}
CPU=${SNI_CPU:-$(($(nproc) - 1))}
PFX=icsni$$
NS=${PFX}n
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
WORK=$(mktemp -d)
INSTS=()
CGS=()

cleanup() {
	set +e
	for i in "${INSTS[@]:-}"; do
		[ -n "$i" ] && "$BIN" uninstall --name "$i" >/dev/null 2>&1
	done
	for c in "${CGS[@]:-}"; do
		[ -n "$c" ] && rmdir "$c" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '  %-8s %s\n' "$1" "$2" >&2; }
die() { echo "sni.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root"
[ -n "$CGROOT" ] || die "no cgroup v2 mount"
T0=$(date +%s)
mkdir -p "$OUT"
ip netns add "$NS"
for i in c o; do
	ip -n "$NS" link add "${i}0" type veth peer name "${i}1"
	ip -n "$NS" link set "${i}0" up
done

# the profile: a name rule on tcp/443 (checked), a rule by address; `off`: the name rule
# says 'sni off'
mkdir -p "$WORK/c" "$WORK/o"
cat >"$WORK/c/10-sni.rules" <<EOF
allow udp 10.42.0.53 port 53
allow tcp name api.example.com port 443
allow tcp 10.42.9.9 port 443
dns learn grace 0 max-ttl 600 max-addresses 2 rate 1000
EOF
sed 's/^\(allow tcp name .* port 443\)$/\1 sni off/' "$WORK/c/10-sni.rules" >"$WORK/o/10-sni.rules"
C=${PFX}c
O=${PFX}o
for i in c o; do
	cg=$CGROOT/${PFX}$i
	mkdir "$cg"
	CGS+=("$cg")
	INSTS+=("${PFX}$i")
	"$BIN" install --profile "$WORK/$i" --tc-ingress "${i}0@$NS" --cgroup "$cg" \
		--source 10.42.0.2 --name "${PFX}$i" >/dev/null
	"$SB" learn "${PFX}$i" api.example.com 10.42.9.1 33001
done

# the check works as the rows assume: checked denies another name, unchecked passes it
for hook in tc cgskb; do
	for hello in openssl_api:1448 pq:1448 pq:536; do
		h=${hello%%:*}
		m=${hello##*:}
		for c in "$C 10.42.9.1 --other deny" "$C 10.42.9.1 - allow" "$O 10.42.9.1 --other allow" \
			"$C 10.42.9.9 --other allow"; do
			set -- $c
			o=$3
			[ "$o" = - ] && o=
			got=$("$SB" verdict --hook "$hook" --prog "$1" --dst "$2" --hello "$h" --mss "$m" $o)
			[ "$got" = "$4" ] ||
				die "$hook: a $h hello (segments of $m) ${o:+with another name }to $2 in $1: $got, want $4"
		done
	done
done
say check "the checked instance denies another name; 'sni off' and the address rule pass it"

{
	printf '# ironclaw-pipe TLS server-name check (bench/sni.sh): %s\n# machine: %s, %s cores, pinned to CPU %s\n# kernel: %s\n# date: %s\n# load: %s\n# runs: %s runs of %s repeats; flows: %s a run\n' \
		"$(git describe --always --dirty 2>/dev/null || echo unknown)" "$(uname -n)" "$(nproc)" \
		"$CPU" "$(uname -sr)" "$(date -u +%FT%TZ)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
		"$RUNS" "$REPEAT" "$FLOWS"
	echo "id,hook,what,part,segments,repeat,ns,ns_min,ns_max,base_ns,base_min,base_max,above_ns,above_min,above_max,ratio,ratio_min,ratio_max"
} >"$OUT/sni.csv"

# row ID HOOK WHAT ARGS...: one interleaved pair of repeated segments
row() {
	local id=$1 hook=$2 what=$3 r
	shift 3
	r=$(taskset -c "$CPU" "$SB" run --hook "$hook" --repeat "$REPEAT" --runs "$RUNS" "$@")
	echo "$id,$hook,$what,,,$r" >>"$OUT/sni.csv"
	say "$id" "$hook $what: $(echo "$r" | cut -d, -f2) ns against $(echo "$r" | cut -d, -f5), above $(echo "$r" | cut -d, -f8) ($(echo "$r" | cut -d, -f9)..$(echo "$r" | cut -d, -f10))"
}

# flows ID HOOK WHAT ARGS...: whole new flows, one by one; a line per part of the flow
flows() {
	local id=$1 hook=$2 what=$3 r
	shift 3
	taskset -c "$CPU" "$SB" flows --hook "$hook" --flows "$FLOWS" --runs "$RUNS" "$@" >"$WORK/f"
	while read -r r; do
		echo "$id,$hook,$what,$r" >>"$OUT/sni.csv"
		say "$id" "$hook $what, $(echo "$r" | cut -d, -f1): $(echo "$r" | cut -d, -f4) ns against $(echo "$r" | cut -d, -f7), above $(echo "$r" | cut -d, -f10) ($(echo "$r" | cut -d, -f11)..$(echo "$r" | cut -d, -f12))"
	done <"$WORK/f"
}

for hook in tc cgskb; do
	chk=(--prog "$C" --dst 10.42.9.1)
	row aa "$hook" "data past the hello: a checked flow against another (A/A)" "${chk[@]}" --kind data
	row data-off "$hook" "data past the hello: checked against 'sni off'" "${chk[@]}" --base "$O" --kind data
	row data-addr "$hook" "data past the hello: checked against a rule by address" "${chk[@]}" \
		--base-dst 10.42.9.9 --kind data
	row syn-off "$hook" "SYN: checked against 'sni off'" "${chk[@]}" --base "$O" --kind syn
	row syn-addr "$hook" "SYN: checked against a rule by address" "${chk[@]}" --base-dst 10.42.9.9 --kind syn
	row hello-off "$hook" "hello of 321 bytes in one segment: checked against 'sni off'" "${chk[@]}" \
		--base "$O" --kind hello --hello openssl_api
	row hello-addr "$hook" "hello of 321 bytes in one segment: checked against a rule by address" \
		"${chk[@]}" --base-dst 10.42.9.9 --kind hello --hello openssl_api
	row hello-pq-off "$hook" "hello of 1737 bytes (post-quantum key share) in one segment: checked against 'sni off'" "${chk[@]}" \
		--base "$O" --kind hello --hello pq
	flows flow-off "$hook" "new flow with a hello of 321 bytes (MSS 1448): checked against 'sni off'" \
		"${chk[@]}" --base "$O" --hello openssl_api --mss 1448
	flows flow-addr "$hook" "new flow with a hello of 321 bytes (MSS 1448): checked against a rule by address" \
		"${chk[@]}" --base-dst 10.42.9.9 --hello openssl_api --mss 1448
	flows flow-pq-off "$hook" "new flow with a hello of 1737 bytes (MSS 1448): checked against 'sni off'" \
		"${chk[@]}" --base "$O" --hello pq --mss 1448
	flows flow-pq536-off "$hook" "new flow with a hello of 1737 bytes (MSS 536): checked against 'sni off'" \
		"${chk[@]}" --base "$O" --hello pq --mss 536
done

# the verifier: instructions processed, each instance's programs
{
	echo "instance,hook,program,insns"
	for i in c o; do
		"$SB" insns "${PFX}$i" | sed "s/^/$([ $i = c ] && echo checked || echo "sni off"),/"
	done
} >"$OUT/sni_insns.csv"
say verifier "$(tr '\n' ';' <"$OUT/sni_insns.csv")"

T1=$(date +%s)
bench/sni_report.sh "$OUT/sni.csv" "$OUT/sni_insns.csv" "$((T1 - T0))" "$(cut -d' ' -f1-3 /proc/loadavg)" \
	>"$OUT/sni.md"
cat "$OUT/sni.md"
