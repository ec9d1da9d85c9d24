#!/usr/bin/env bash
# demo.sh: the scenario end to end in its own namespaces and cgroups; removes everything it made.
set -u
BUILD=${1:-build}
BIN=$BUILD/ironclaw-pipe
NET_PREFIX=icpdemo
INSTANCE=demo
. "$(dirname "$0")/sandbox-net.sh"

[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates namespaces and loads BPF)"; exit 1; }
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CGROOT" ] || { echo "demo: no cgroup v2 hierarchy is mounted"; exit 1; }
CG=$CGROOT/icpdemo
LOGS=$(mktemp -d)
bad=0

cleanup() {
	"$BIN" uninstall --name "$INSTANCE" >/dev/null 2>&1
	net_down
	[ -d "$CG" ] && find "$CG" -depth -type d -exec rmdir {} \; 2>/dev/null
	rm -rf "$LOGS"
}
trap cleanup EXIT INT TERM

# reason_count REASON: packets counted for REASON so far
reason_count() {
	"$BIN" status --name "$INSTANCE" --json |
		grep -o "\"$1\":{\"verdict\":\"[a-z]*\",\"packets\":[0-9]*" | grep -o '[0-9]*$'
}

# as TOOL COMMAND...: a process of the sandbox, in the cgroup of TOOL
as() {
	local dir=$CG/$1
	shift
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec ip netns exec "$@"' sh "$dir" "$SBX" "$@"
}

# show WANT(allow|deny) TOOL LABEL PROBE-ARGS...: one line per case
show() {
	local want=$1 tool=$2 label=$3 out got
	shift 3
	out=$(as "$tool" "$BUILD/netprobe" "$@" 2>/dev/null)
	case $out in
	ok*) got=allow; printf '  ALLOWED  %-11s %-36s %s\n' "$tool" "$label" "$out" ;;
	*EPERM) got=deny; printf '  DENIED   %-11s %-36s %s (connect hook: no rule)\n' "$tool" "$label" "$out" ;;
	*) got=other; printf '  FAILED   %-11s %-36s %s (not by the filter)\n' "$tool" "$label" "$out" ;;
	esac
	[ "$got" = "$want" ] || { echo "  ^ expected $want"; bad=1; }
}

echo "== setting up: sandbox namespace $SBX with cgroup $CG (tools memscraper and other),"
echo "   corporate network namespace $CORP"
net_up || exit 1
net_services "$LOGS"
mkdir -p "$CG/memscraper" "$CG/other"

echo "== without a filter, the decoys answer:"
as other "$BUILD/netprobe" connect 10.42.7.11 8081 --timeout-ms 2000 | sed 's/^/  other -> 10.42.7.11:8081 /'

echo "== ironclaw-pipe check --profile rules.d"
"$BIN" check --profile rules.d | sed 's/^/  /' || exit 1
echo "== ironclaw-pipe install --profile rules.d --tc-ingress host0@$CORP --cgroup $CG --sandbox-netns $SBX"
"$BIN" install --profile rules.d --tc-ingress "host0@$CORP" --cgroup "$CG" --sandbox-netns "$SBX" \
	--name "$INSTANCE" 2>&1 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" = 0 ] || exit 1

echo "== what the sandbox's tools get (connect hooks: EPERM at once; host-side tc behind them):"
show allow memscraper "POST http://10.42.7.11:8080/" connect 10.42.7.11 8080 \
	--post "memscraper findings: 3 suspicious regions" --timeout-ms 2000
sleep 0.2
sed -n 's/^/  collector: /p' "$LOGS/collector.log"
show deny other "POST http://10.42.7.11:8080/" connect 10.42.7.11 8080 --post "x" --timeout-ms 2000
show deny memscraper "TCP 10.42.7.11:8081 (decoy port)" connect 10.42.7.11 8081 --timeout-ms 1000
show deny memscraper "TCP 10.42.7.12:8080 (other host)" connect 10.42.7.12 8080 --timeout-ms 1000
show deny memscraper "HTTPS 203.0.113.9:443 (not allowed)" connect 203.0.113.9 443 --timeout-ms 1000
show deny other "DNS to 10.42.0.99 (not the resolver)" udp 10.42.0.99 53 --timeout-ms 1000
show allow other "DNS to 10.42.0.53 (the resolver)" udp 10.42.0.53 53 --timeout-ms 2000
show allow other "HTTPS 203.0.113.1:443 (update)" connect 203.0.113.1 443 --timeout-ms 2000
show allow memscraper "HTTPS 198.51.100.42:443 (telemetry)" connect 198.51.100.42 443 --timeout-ms 2000

echo "== a raw frame from the sandbox to 10.42.7.12:8080 (no socket hook sees it): host-side tc"
before=$(reason_count no_rule)
HOST_MAC=$(ip -n "$CORP" link show host0 | awk '/ether/ {print $2}')
as other "$BUILD/rawframe" sbx0 --dst-mac "$HOST_MAC" --src 10.42.0.2 --dst 10.42.7.12 \
	--proto tcp --dport 8080 --count 3 --qdisc-bypass | sed 's/^/  /'
sleep 0.2
printf '  dropped at host-side tc ingress: no_rule +%d\n' $(($(reason_count no_rule) - before))
[ $(($(reason_count no_rule) - before)) -ge 3 ] || { echo "  ^ expected +3"; bad=1; }

echo "== ironclaw-pipe log --name $INSTANCE   (why each was blocked, and by what)"
"$BIN" log --name "$INSTANCE" 2>&1 | sed 's/^/  /'

echo "== ironclaw-pipe explain: the installed pipeline's own answer, recording nothing"
for q in "tcp 10.42.7.11 8080 tool memscraper" "tcp 10.42.7.11 8080 tool other"; do
	echo "  \$ ironclaw-pipe explain $q"
	# shellcheck disable=SC2086
	out=$("$BIN" explain --name "$INSTANCE" $q)
	rc=$?
	echo "$out" | sed 's/^/    /'
	echo "    (exit $rc)"
done

echo "== ironclaw-pipe rules --name $INSTANCE"
"$BIN" rules --name "$INSTANCE" | sed 's/^/  /'

echo "== ironclaw-pipe status --name $INSTANCE"
"$BIN" status --name "$INSTANCE" | awk '/counters:/ {c=1; print; next} !c || $3 > 0' | sed 's/^/  /'

echo "== ironclaw-pipe uninstall --name $INSTANCE; removing the namespaces and cgroups"
"$BIN" uninstall --name "$INSTANCE" | sed 's/^/  /'
if [ "$bad" = 0 ]; then echo "demo: every case behaved as the profile says"; else echo "demo: FAILED"; fi
exit "$bad"
