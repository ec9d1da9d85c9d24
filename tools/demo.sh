#!/usr/bin/env bash
# demo.sh: the scenario end to end in its own namespaces; removes everything it made.
set -u
BUILD=${1:-build}
BIN=$BUILD/ironclaw-pipe
NET_PREFIX=icpdemo
INSTANCE=demo
. "$(dirname "$0")/sandbox-net.sh"

[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates namespaces and loads BPF)"; exit 1; }
LOGS=$(mktemp -d)
bad=0

cleanup() {
	"$BIN" uninstall --name "$INSTANCE" >/dev/null 2>&1
	net_down
	rm -rf "$LOGS"
}
trap cleanup EXIT INT TERM

# reason_count REASON: packets counted for REASON so far
reason_count() {
	"$BIN" status --name "$INSTANCE" --json |
		grep -o "\"$1\":{\"verdict\":\"[a-z]*\",\"packets\":[0-9]*" | grep -o '[0-9]*$'
}

# show WANT(allow|deny) LABEL COMMAND...: runs a probe in the sandbox, prints one line
show() {
	local want=$1 label=$2 before out got
	shift 2
	before=$(reason_count no_rule)
	out=$(sbx "$BUILD/netprobe" "$@" 2>/dev/null)
	case $out in ok*) got=allow ;; *) got=deny ;; esac
	if [ "$got" = allow ]; then
		printf '  ALLOWED  %-38s %s\n' "$label" "$out"
	elif [ "$(reason_count no_rule)" -gt "$before" ]; then
		printf '  DENIED   %-38s %s (dropped: no rule, no_rule +%d)\n' "$label" "$out" \
			$(($(reason_count no_rule) - before))
	else
		printf '  FAILED   %-38s %s (not by the filter: no_rule did not move)\n' "$label" "$out"
		got=other
	fi
	[ "$got" = "$want" ] || { echo "  ^ expected $want"; bad=1; }
}

echo "== setting up: sandbox namespace $SBX, corporate network namespace $CORP"
net_up || exit 1
net_services "$LOGS"

echo "== without a filter, the decoys answer:"
sbx "$BUILD/netprobe" connect 10.42.7.11 8081 --timeout-ms 2000 | sed 's/^/  10.42.7.11:8081 /'

echo "== ironclaw-pipe check --profile rules.d"
"$BIN" check --profile rules.d | sed 's/^/  /' || exit 1
echo "== ironclaw-pipe install --profile rules.d --tc-ingress host0@$CORP --sandbox-netns $SBX --name $INSTANCE"
"$BIN" install --profile rules.d --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
	--name "$INSTANCE" | sed 's/^/  /'
[ "${PIPESTATUS[0]}" = 0 ] || exit 1

echo "== what the sandbox's tool gets (host-side tc ingress, out of the sandbox's reach):"
show allow "POST http://10.42.7.11:8080/" connect 10.42.7.11 8080 --post "memscraper findings: 3 suspicious regions" --timeout-ms 2000
sleep 0.2
sed -n 's/^/  collector: /p' "$LOGS/collector.log"
show deny "TCP 10.42.7.11:8081 (decoy port)" connect 10.42.7.11 8081 --timeout-ms 1000
show deny "TCP 10.42.7.12:8080 (other host)" connect 10.42.7.12 8080 --timeout-ms 1000
show deny "HTTPS 203.0.113.9:443 (not allowed)" connect 203.0.113.9 443 --timeout-ms 1000
show deny "DNS to 10.42.0.99 (not the resolver)" udp 10.42.0.99 53 --timeout-ms 1000
show allow "DNS to 10.42.0.53 (the resolver)" udp 10.42.0.53 53 --timeout-ms 2000
show allow "HTTPS 203.0.113.1:443 (update)" connect 203.0.113.1 443 --timeout-ms 2000
show allow "HTTPS 198.51.100.42:443 (telemetry)" connect 198.51.100.42 443 --timeout-ms 2000

echo "== ironclaw-pipe status --name $INSTANCE"
"$BIN" status --name "$INSTANCE" | awk '/counters:/ {c=1; print; next} !c || $3 > 0' | sed 's/^/  /'

echo "== ironclaw-pipe uninstall --name $INSTANCE; removing the namespaces"
"$BIN" uninstall --name "$INSTANCE" | sed 's/^/  /'
if [ "$bad" = 0 ]; then echo "demo: every case behaved as the profile says"; else echo "demo: FAILED"; fi
exit "$bad"
