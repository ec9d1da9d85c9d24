#!/usr/bin/env bash
# exact_rules.sh: cost per packet of the tc pipeline as the internal stage's exact rules grow.
# BPF_PROG_TEST_RUN on one UDP frame (repeat 2,000,000, median of 7 runs), matching and not
# matching, for 1, 1,024 and 64,512 entries (port ranges expand to one entry per port).
# Writes bench/results/exact_rules.csv. Runs in its own namespace; sends no traffic.
set -eu
BUILD=${1:-build}
BIN=$BUILD/ironclaw-pipe
NS=icpbench$$
INST=bench$$
WORK=$(mktemp -d)
OUT=bench/results/exact_rules.csv
trap '"$BIN" uninstall --name "$INST" >/dev/null 2>&1 || true; ip netns del "$NS" 2>/dev/null; rm -rf "$WORK"' EXIT

ip netns add "$NS"
ip -n "$NS" link add b0 type veth peer name b1

# eth / IPv4 10.42.0.2 -> 10.42.7.11 / UDP 40000 -> PORT
frame() {
	printf '\002\002\002\002\002\002\004\004\004\004\004\004\010\000'
	printf '\105\000\000\034\000\000\000\000\100\021\000\000\012\052\000\002\012\052\007\013'
	printf "\\234\\100\\$(printf %03o $(($1 >> 8)))\\$(printf %03o $(($1 & 255)))\\000\\010\\000\\000"
}
frame 1024 >"$WORK/hit.bin"
frame 80 >"$WORK/miss.bin"

median_ns() {
	for _ in 1 2 3 4 5 6 7; do
		bpftool prog run pinned "/sys/fs/bpf/ironclaw/$INST/dispatch_tc" data_in "$1" \
			repeat 2000000 | grep -o 'average): [0-9]*' | grep -o '[0-9]*$'
	done | sort -n | sed -n 4p
}

mkdir -p bench/results
echo "entries,matching_ns,non_matching_ns,install_s,rules_map_memlock_bytes" >"$OUT"
for range in 1024 1024-2047 1024-65535; do
	mkdir -p "$WORK/p"
	rm -f "$WORK/p"/*
	echo "allow udp 10.42.7.11 port $range" >"$WORK/p/10-bench.rules"
	start=$(date +%s.%N)
	"$BIN" install --profile "$WORK/p" --tc-ingress "b0@$NS" --source 10.42.0.2 --name "$INST" >/dev/null
	end=$(date +%s.%N)
	entries=$("$BIN" status --name "$INST" --json | grep -o '"name":"internal","prog_id":[0-9]*,"entries":[0-9]*' | grep -o '[0-9]*$')
	mem=$(bpftool map show pinned "/sys/fs/bpf/ironclaw/$INST/rules-internal" | grep -o 'memlock [0-9]*' | grep -o '[0-9]*')
	echo "$entries,$(median_ns "$WORK/hit.bin"),$(median_ns "$WORK/miss.bin"),$(awk "BEGIN { printf \"%.3f\", $end - $start }"),$mem" >>"$OUT"
	"$BIN" uninstall --name "$INST" >/dev/null
done
cat "$OUT"
