#!/usr/bin/env bash
# run.sh BUILD quick|full [report]: every measurement of bench/README.md, then the report
# (with 'report': only the report, again, from the CSVs already in the results directory).
#   full  (make bench): all sizes, repeat 10^6, 5 runs each; about 11 minutes
#   quick (make bench-quick): a few sizes, fewer repeats and runs; about 30 s
# Results: bench/results/ (full) or bench/results/quick/, as CSV, markdown and PNG.
# Traffic stays in the namespaces this script creates; everything it creates is
# removed on any exit.
set -eu
BUILD=${1:-build}
MODE=${2:-full}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$BUILD/ironclaw-pipe
ICB=$BUILD/bench/icbench
UDPF=$BUILD/bench/udpflood
BENCH_OBJ=$BUILD/bench/bench_progs.bpf.o
ID=$$
PFX=icb$ID # namespaces, instances and pins: unique per run
WORK=$(mktemp -d)
PINS=/sys/fs/bpf/$PFX
INSTANCES=()
NAMESPACES=()

case $MODE in
full)
	OUT=bench/results
	TR_NS="1 3 10 100 1000 10000 100000 1000000"
	TR_REPEAT=1000000
	TR_RUNS=5
	TR_BUDGET=2 # seconds a run at most (slow if-chains get fewer repeats)
	IFC_COMPILE_S=240
	LIVE_NS="10 1000 100000"
	LIVE_RUNS=5
	LIVE_SECONDS=1
	LIVE_COUNT=5000000
	CTRL_NS="10 10000 1000000"
	CTRL_RUNS=3
	CTRL_EDIT_RUNS=7
	;;
quick)
	OUT=bench/results/quick
	TR_NS="1 3 1000"
	TR_REPEAT=100000
	TR_RUNS=3
	TR_BUDGET=0.2
	IFC_COMPILE_S=30
	LIVE_NS="1000"
	LIVE_RUNS=3
	LIVE_SECONDS=0.25
	LIVE_COUNT=1000000
	CTRL_NS="10 10000"
	CTRL_RUNS=1
	;;
control)
	# the control plane alone (make bench-control): allow, revoke, reload, install
	OUT=bench/results/control
	CTRL_NS="1000 100000 1000000"
	CTRL_RUNS=7
	;;
*)
	echo "usage: bench/run.sh BUILD quick|full|control" >&2
	exit 2
	;;
esac

cleanup() {
	local i n
	set +e
	for p in "${BG_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	for i in "${INSTANCES[@]:-}"; do
		[ -n "$i" ] && "$BIN" uninstall --name "$i" >/dev/null 2>&1
	done
	rm -rf "$PINS"
	for n in "${NAMESPACES[@]:-}"; do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null
	done
	rm -rf "$WORK"
}
BG_PIDS=()
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (namespaces, BPF)" >&2
	exit 1
fi
grep -q ' /sys/fs/bpf bpf' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
mkdir -p "$PINS" "$OUT"

say() { printf '  %-8s %s\n' "$1" "$2" >&2; }

# netns NAME: a namespace of this run, removed at exit
netns() {
	ip netns add "$1"
	NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

# one line of machine facts for every output's header
MACHINE="$(uname -n) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"
KERNEL="$(uname -sr)"
DATE="$(date -u '+%Y-%m-%d %H:%M UTC')"
LOAD="$(cut -d' ' -f1-3 /proc/loadavg)" # before the bench starts: how busy the machine was
header() {
	printf '# ironclaw-pipe bench (%s)\n# machine: %s\n# kernel: %s\n# date: %s\n# load: %s\n' \
		"$MODE" "$MACHINE" "$KERNEL" "$DATE" "$LOAD"
}

HAVE_XDP=0
"$BIN" install --help 2>&1 | grep -q -- --xdp && HAVE_XDP=1

START=$(date +%s)
. "$HERE/testrun.sh"
. "$HERE/live.sh"
. "$HERE/control.sh"
if [ "${3:-}" = report ]; then
	DATE=$(sed -n 's/^# date: //p' "$OUT/$TR_CSV" | head -1)
	LOAD=$(sed -n 's/^# load: //p' "$OUT/$TR_CSV" | head -1)
	DURATION=$(sed -n 's/^# duration: //p' "$OUT/$TR_CSV" | head -1)
elif [ "$MODE" = control ]; then
	mkdir -p "$OUT"
	control_all
	. "$HERE/report.sh"
	{
		echo "Control plane, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
		echo
		control_table
		echo
		echo "| target | measured in this run | |"
		echo "|---|---|---|"
		control_targets
	} >"$OUT/control.md"
	cat "$OUT/control.md"
	exit 0
else
	testrun_all
	live_all
	control_all
	DURATION=$(($(date +%s) - START))
	sed -i "/^# date: /a # duration: $DURATION" "$OUT/$TR_CSV"
fi
. "$HERE/report.sh"
report_all
say done "$MODE bench in ${DURATION} s; results in $OUT/"
