#!/usr/bin/env bash
# flows.sh BUILD [BASE_REV]: what a flow record costs at tc, with BPF_PROG_TEST_RUN (icbench run): an
# allowed TCP segment that begins nothing (an ACK: the flag test alone), an allowed SYN whose
# record is written (the ring buffer emptied and the budget given back before each run of 100),
# and an allowed SYN over its budget (a SYN flood: the record dropped and counted), each against
# the empty tc program, interleaved; with BASE_REV (built from git like ab.sh) also this build's
# ACK and SYN against BASE_REV's, and the same against itself (A/A). Writes
# bench/results/flows/flows.csv. Its namespace,
# instance and pins are removed on any exit; no packet is sent.
set -eu
BUILD=${1:-build}
BASE_REV=${2:-}
BIN=$BUILD/ironclaw-pipe
ICB=$BUILD/bench/icbench
PFX=icfl$$
NS=${PFX}n
OUT=bench/results/flows
WORK=$(mktemp -d)
FLOW_RUNS=${FLOW_RUNS:-15}
FLOW_REPEAT=${FLOW_REPEAT:-1000000}

OLD=$WORK/base/build/ironclaw-pipe

cleanup() {
	"$BIN" uninstall --name "$PFX" >/dev/null 2>&1 || true
	"$BIN" uninstall --name "${PFX}c" >/dev/null 2>&1 || true
	[ -x "$OLD" ] && "$OLD" uninstall --name "${PFX}b" >/dev/null 2>&1 || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

ip netns add "$NS"
ip -n "$NS" link add a0 type veth peer name a1
ip -n "$NS" link set a0 up
ip -n "$NS" link set a1 up
mkdir -p "$WORK/prof" "$OUT"
"$ICB" gen-profile cidr 1 "$WORK/prof/10-cidr.rules"
"$BIN" install --profile "$WORK/prof" --tc-ingress "a0@$NS" --source 10.42.0.2 --name "$PFX" >/dev/null
PROG=pin:/sys/fs/bpf/ironclaw/$PFX/dispatch_tc

{
	printf '# ironclaw-pipe flow records at tc\n# machine: %s, %s cores\n# kernel: %s\n# date: %s\n# load: %s\n' \
		"$(uname -n)" "$(nproc)" "$(uname -sr)" "$(date -u +%FT%TZ)" "$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "packet,repeat,ns,ns_min,ns_max,empty_ns,empty_min,empty_max,above_ns,ratio,retval"
} >"$OUT/flows.csv"

# row WHAT ICBENCH-ARGS...
row() {
	local what=$1 r
	shift
	r=$("$ICB" run --prog "$PROG" --set cidr --n 1 --hit --hot --runs "$FLOW_RUNS" "$@")
	echo "$what,$r" >>"$OUT/flows.csv"
	printf '  %-34s %s ns above the baseline (%s ns against %s), ratio %s\n' "$what" \
		"$(echo "$r" | cut -d, -f8)" "$(echo "$r" | cut -d, -f2)" "$(echo "$r" | cut -d, -f5)" \
		"$(echo "$r" | cut -d, -f9)" >&2
}

row "ack (allowed, no record)" --tcp-flags 0x10 --repeat "$FLOW_REPEAT"
row "syn, record written" --repeat 100 --events-of "$PFX"
row "ack, runs of 100" --tcp-flags 0x10 --repeat 100
row "syn over budget (record dropped)" --repeat "$FLOW_REPEAT"
"$BIN" status --name "$PFX" | grep "flow records dropped" >&2
[ -n "$BASE_REV" ] || exit 0

mkdir -p "$WORK/base"
git archive "$BASE_REV" | tar -x -C "$WORK/base"
make -s -C "$WORK/base" -j"$(nproc)" build/ironclaw-pipe >"$WORK/build.log" 2>&1 ||
	{ tail -20 "$WORK/build.log"; exit 1; }
ip -n "$NS" link add b0 type veth peer name b1
ip -n "$NS" link add c0 type veth peer name c1
for i in b0 b1 c0 c1; do ip -n "$NS" link set "$i" up; done
"$OLD" install --profile "$WORK/prof" --tc-ingress "b0@$NS" --source 10.42.0.2 --name "${PFX}b" >/dev/null
"$BIN" install --profile "$WORK/prof" --tc-ingress "c0@$NS" --source 10.42.0.2 --name "${PFX}c" >/dev/null
BASE=pin:/sys/fs/bpf/ironclaw/${PFX}b/dispatch_tc
SAME=pin:/sys/fs/bpf/ironclaw/${PFX}c/dispatch_tc
row "ack: A/B against $BASE_REV" --tcp-flags 0x10 --repeat "$FLOW_REPEAT" --base "$BASE"
row "ack: A/A (this build twice)" --tcp-flags 0x10 --repeat "$FLOW_REPEAT" --base "$SAME"
row "syn flood: A/B against $BASE_REV" --repeat "$FLOW_REPEAT" --base "$BASE"
row "syn flood: A/A (this build twice)" --repeat "$FLOW_REPEAT" --base "$SAME"
