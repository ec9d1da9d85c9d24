#!/usr/bin/env bash
# ab.sh BUILD BASE_REV: is this build slower than BASE_REV? An interleaved A/B with
# BPF_PROG_TEST_RUN: the dispatcher of each build, installed with the same profile
# (N exact rules, the internal stage), run against each other run by run (icbench run
# --base), beside an A/A of two installs of the base (the noise floor), at tc and at XDP.
# BASE_REV is built from git (git archive) in a directory of its own. Writes
# bench/results/ab/ab.csv and ab.md. Every namespace, instance and pin it makes is
# removed on any exit; no packet is sent.
set -eu
BUILD=${1:-build}
BASE_REV=${2:?usage: bench/ab.sh BUILD BASE_REV}
BIN=$BUILD/ironclaw-pipe
ICB=$BUILD/bench/icbench
PFX=icab$$
OUT=bench/results/ab
WORK=$(mktemp -d)
NS=${PFX}n
AB_NS=${AB_NS:-"1 1000"}
AB_RUNS=${AB_RUNS:-7}
AB_REPEAT=${AB_REPEAT:-200000}
OLD=$WORK/base/build/ironclaw-pipe

cleanup() {
	local i
	for i in a b c; do
		"$BIN" uninstall --name "$PFX$i" >/dev/null 2>&1 ||
			"$OLD" uninstall --name "$PFX$i" >/dev/null 2>&1 || true
	done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

say() { printf '  %-8s %s\n' "$1" "$2" >&2; }

say build "$BASE_REV into $WORK/base"
mkdir -p "$WORK/base" "$OUT"
git archive "$BASE_REV" | tar -x -C "$WORK/base"
make -s -C "$WORK/base" -j"$(nproc)" build/ironclaw-pipe >"$WORK/build.log" 2>&1 ||
	{ tail -20 "$WORK/build.log"; exit 1; }

ip netns add "$NS"
for i in a b c; do
	ip -n "$NS" link add "${i}0" type veth peer name "${i}1"
	ip -n "$NS" link set "${i}0" up
	ip -n "$NS" link set "${i}1" up
done

# install BINARY NAME HOOK IFACE PROFILE: the pipeline with that profile at tc or XDP
install() {
	local opt=(--tc-ingress "$4@$NS")
	[ "$3" = xdp ] && opt+=(--xdp "$4@$NS") # XDP needs tc ingress beside it (VLAN tags)
	"$1" install --profile "$5" "${opt[@]}" --source 10.42.0.2 --name "$2" >/dev/null
}

# row HOOK N WHAT PROG BASE: one interleaved comparison
row() {
	local r
	r=$("$ICB" run --prog "$4" --base "$5" --set exact --n "$2" --hit --hot \
		--repeat "$AB_REPEAT" --runs "$AB_RUNS")
	echo "$1,$2,$3,${r%,*}" >>"$OUT/ab.csv"
	say ab "$1 n=$2 $3: $(echo "$r" | cut -d, -f2) against $(echo "$r" | cut -d, -f5) ns, ratio $(echo "$r" | cut -d, -f9)"
}

{
	printf '# ironclaw-pipe A/B: this build (%s) against %s\n# machine: %s, %s cores\n# kernel: %s\n# date: %s\n# load: %s\n' \
		"$(git describe --always --dirty 2>/dev/null || echo unknown)" "$BASE_REV" \
		"$(uname -n)" "$(nproc)" "$(uname -sr)" "$(date -u +%FT%TZ)" "$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "hook,n,comparison,repeat,ns,ns_min,ns_max,base_ns,base_min,base_max,above_ns,ratio"
} >"$OUT/ab.csv"
for n in $AB_NS; do
	prof=$WORK/prof_$n
	mkdir -p "$prof"
	"$ICB" gen-profile exact "$n" "$prof/10-exact.rules"
	for hook in tc xdp; do
		install "$OLD" "${PFX}a" "$hook" a0 "$prof"
		install "$OLD" "${PFX}c" "$hook" c0 "$prof"
		install "$BIN" "${PFX}b" "$hook" b0 "$prof"
		a=pin:/sys/fs/bpf/ironclaw/${PFX}a/dispatch_$hook
		b=pin:/sys/fs/bpf/ironclaw/${PFX}b/dispatch_$hook
		c=pin:/sys/fs/bpf/ironclaw/${PFX}c/dispatch_$hook
		row "$hook" "$n" "A/A (base against base)" "$c" "$a"
		row "$hook" "$n" "A/B (this build against base)" "$b" "$a"
		"$BIN" uninstall --name "${PFX}b" >/dev/null
		"$OLD" uninstall --name "${PFX}a" >/dev/null
		"$OLD" uninstall --name "${PFX}c" >/dev/null
	done
done

# the table: a regression is a ratio whose whole min-max range lies beyond the A/A one
awk -F, '
/^#/ { next } /^hook/ { next }
{
	key = $1 " n=" $2
	if ($3 ~ /^A\/A/) { aa[key] = $12 }
	else { ab[key] = $12; abns[key] = $5; base[key] = $8; order[++k] = key }
}
END {
	print "| hook, rules | base ns | this build ns | A/B ratio (median) | A/A ratio (median) | verdict |"
	print "|---|---|---|---|---|---|"
	for (i = 1; i <= k; i++) {
		key = order[i]
		d = ab[key] - 1; noise = aa[key] - 1; if (noise < 0) noise = -noise
		v = (d <= noise + 0.03) ? "no regression beyond the A/A spread" : "slower"
		printf "| %s | %s | %s | %.2f | %.2f | %s |\n", key, base[key], abns[key], ab[key], aa[key], v
	}
}' "$OUT/ab.csv" >"$OUT/ab.md"
cat "$OUT/ab.md"
