# t_collect.sh: the event collector and its journal (many readers, filters, a cap under a flood,
# kill -9 and a torn tail, instances that come and go), bytes from the sandbox escaped in every
# output, metrics that promtool accepts (command, HTTP listener, textfile), and the records of
# allowed flows and queries (log --flows).

area collect "tools_profile" "" \
	test_collect_many_readers test_collect_follows_instances test_collect_journald \
	test_collect_cap_under_flood \
	test_collect_kill9_and_torn_tail test_collect_escapes_sandbox_bytes test_metrics_promtool \
	test_collect_flows

# wait_for TRIES COMMAND...: COMMAND succeeds within TRIES tries, 0.1 s apart
wait_for() {
	local n=$1
	shift
	until "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# lines_at_least N FILE
lines_at_least() { [ "$(wc -l <"$2")" -ge "$1" ]; }

# said N TEXT: the collector's stderr says TEXT N times (or more)
said() { [ "$(grep -cF -- "$2" "$WORK/collect.err")" -ge "$1" ]; }

# collector_start [ARGS...]: a collector in the background (COLLECTOR), its stderr in
# $WORK/collect.err; waits until it collects this run's instance (the Nth time: COLLECTED)
COLLECTED=0
collector_start() {
	# collect.err is the area's: each test counts from its own first collector
	[ "$COLLECTED" = 0 ] && : >"$WORK/collect.err"
	"$BIN" collect "$@" >/dev/null 2>>"$WORK/collect.err" &
	COLLECTOR=$!
	COLLECTED=$((COLLECTED + 1))
	wait_for 50 said "$COLLECTED" "instance '$INSTANCE': collecting into" ||
		fail "the collector does not collect: $(cat "$WORK/collect.err")"
}

# denied_connects TOOL SECONDS: connect()s refused with EPERM as fast as they go, for SECONDS
# (at most 50,000)
denied_connects() {
	in_tool "$1" python3 -c 'import socket, sys, time
end = time.time() + float(sys.argv[1])
for _ in range(50000):
    if time.time() > end:
        break
    s = socket.socket()
    try:
        s.connect(("10.42.7.12", 8081))
    except OSError:
        pass
    s.close()' "$2"
}

# journal_bytes: the size of this run's journal
journal_bytes() { cat "$JOURNAL_DIR"/*.jrn 2>/dev/null | wc -c; }

# log_has PATTERN: the journal's events (log --json) match PATTERN
log_has() { "$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep -q -- "$1"; }

# two followers and suggest all see every event; nothing is consumed; the filters keep what they say
test_collect_many_readers() {
	local p out again n
	install_cgroup --audit || return 1
	collector_start --name "$INSTANCE" || return 1
	"$BIN" log --name "$INSTANCE" --follow --json >"$WORK/f1" 2>/dev/null &
	"$BIN" log --name "$INSTANCE" --follow >"$WORK/f2" 2>/dev/null &
	sleep 0.3 # both started (they read the journal from its start either way)
	for p in 9101 9102 9103 9104 9105; do
		tool_out other connect 10.42.7.11 $p --timeout-ms 500 >/dev/null
	done
	for p in 9101 9102 9103 9104 9105; do
		wait_for 50 grep -q "\"destination\":\"10.42.7.11:$p\",\"stage\":\"internal\",\"reason\":\"no_rule\",\"verdict\":\"would-deny\"" "$WORK/f1" ||
			fail "follower 1 did not see the connect to port $p: $(cat "$WORK/f1")" || return 1
		wait_for 50 grep -q "^[-0-9T:.]*Z would-deny no_rule .* -> 10.42.7.11:$p " "$WORK/f2" ||
			fail "follower 2 did not see the connect to port $p: $(cat "$WORK/f2")" || return 1
	done
	out=$("$BIN" suggest --name "$INSTANCE" 2>/dev/null)
	for p in 9101 9102 9103 9104 9105; do
		echo "$out" | grep -q "^allow tcp 10.42.7.11 port $p tool other  # [1-9][0-9]* would-deny$" ||
			fail "suggest does not see port $p: $out" || return 1
	done
	again=$("$BIN" suggest --name "$INSTANCE" 2>/dev/null)
	[ "$out" = "$again" ] || fail "suggest consumed what it read: first $out, then $again" || return 1
	[ "$(grep -c destination "$WORK/f1")" -ge 5 ] || fail "follower 1 lost events" || return 1
	# filters
	n=$("$BIN" log --name "$INSTANCE" --json --tool other --reason no_rule --verdict would-deny \
		--dest 10.42.7.0/24 --since 10m 2>/dev/null | grep -c '"destination":"10.42.7.11:910')
	[ "$n" -ge 5 ] || fail "the filters that match every event kept $n of them" || return 1
	n=$("$BIN" log --name "$INSTANCE" --json --verdict deny 2>/dev/null | grep -c destination)
	[ "$n" = 0 ] || fail "--verdict deny kept $n would-deny events" || return 1
	n=$("$BIN" log --name "$INSTANCE" --json --dest 10.42.7.12 2>/dev/null | grep -c destination)
	[ "$n" = 0 ] || fail "--dest 10.42.7.12 kept $n events to 10.42.7.11" || return 1
	n=$("$BIN" log --name "$INSTANCE" --json --tool memscraper 2>/dev/null | grep -c destination)
	[ "$n" = 0 ] || fail "--tool memscraper kept $n events of other" || return 1
	n=$("$BIN" log --name "$INSTANCE" --json --since "@$(($(date +%s) + 3600))" 2>/dev/null | grep -c destination)
	[ "$n" = 0 ] || fail "--since an hour ahead kept $n events" || return 1
	out=$("$BIN" log --name "$INSTANCE" --verdict maybe 2>&1)
	[ $? = 2 ] && echo "$out" | grep -q "bad verdict 'maybe': deny, would-deny or allow" ||
		fail "a bad --verdict: $out" || return 1
	out=$("$BIN" log --name "$INSTANCE" --since yesterday 2>&1)
	[ $? = 2 ] && echo "$out" | grep -q "bad time 'yesterday'" || fail "a bad --since: $out"
}

# a collector started before its instance takes it when it is installed, lets it go when it is
# uninstalled and takes the next install; one with --until-uninstalled ends instead
test_collect_follows_instances() {
	local first until out
	: >"$WORK/collect.err" # what the earlier tests' collectors said is not this one's
	# (with --name: a collector of every instance would also take other instances of the machine)
	"$BIN" collect --name "$INSTANCE" >/dev/null 2>>"$WORK/collect.err" &
	first=$!
	install_cgroup || return 1
	wait_for 50 said 1 "instance '$INSTANCE': collecting into" ||
		fail "the collector did not take the new instance: $(cat "$WORK/collect.err")" || return 1
	want_eperm other connect 10.42.7.11 9301 || return 1
	wait_for 50 log_has '"destination":"10.42.7.11:9301"' || fail "no event of the install" || return 1
	"$BIN" uninstall --name "$INSTANCE" >/dev/null || fail "uninstall" || return 1
	wait_for 50 said 1 "instance '$INSTANCE' was uninstalled" ||
		fail "the collector did not notice the uninstall: $(cat "$WORK/collect.err"); it waits in $(cat /proc/$first/wchan)" || return 1
	install_cgroup || return 1
	wait_for 50 said 2 "instance '$INSTANCE': collecting into" ||
		fail "the collector did not take the next install: $(cat "$WORK/collect.err")" || return 1
	want_eperm other connect 10.42.7.11 9302 || return 1
	wait_for 50 log_has '"destination":"10.42.7.11:9302"' || fail "no event of the next install" || return 1
	log_has '"destination":"10.42.7.11:9301"' || fail "the first install's event is gone" || return 1
	# --until-uninstalled: ends (status 0) when its instance goes; needs --name
	kill $first
	wait $first 2>/dev/null
	"$BIN" collect --name "$INSTANCE" --until-uninstalled >/dev/null 2>>"$WORK/collect.err" &
	until=$!
	wait_for 50 said 3 "instance '$INSTANCE': collecting into" ||
		fail "collect --until-uninstalled did not start: $(cat "$WORK/collect.err")" || return 1
	"$BIN" uninstall --name "$INSTANCE" >/dev/null || fail "uninstall" || return 1
	wait_for 50 eval '! kill -0 '$until' 2>/dev/null' ||
		fail "collect --until-uninstalled outlived its instance: $(cat "$WORK/collect.err")" || return 1
	wait $until || fail "collect --until-uninstalled ended with status $?" || return 1
	out=$("$BIN" collect --until-uninstalled 2>&1)
	[ $? = 2 ] && echo "$out" | grep -q -- "--until-uninstalled needs --name INSTANCE" ||
		fail "--until-uninstalled without --name: $out"
}

# journald_ns_start: a mount namespace of its own (JNS: a process in it) where a journald of the
# test's runs on empty /run/systemd and /run/log: what is sent there stays there
journald_ns_start() {
	unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs /run/systemd &&
		mount -t tmpfs tmpfs /run/log && { [ ! -d /var/log/journal ] ||
		mount -t tmpfs tmpfs /var/log/journal; } && touch /run/log/.ready && exec sleep 120' &
	JNS=$!
	wait_for 50 nsenter -t "$JNS" -m test -e /run/log/.ready || fail "no mount namespace" || return 1
	nsenter -t "$JNS" -m /lib/systemd/systemd-journald 2>/dev/null &
	JOURNALD=$!
	wait_for 50 nsenter -t "$JNS" -m test -S /run/systemd/journal/socket ||
		fail "journald did not start" || return 1
}

# journald_json FILTER...: the entries of the test's journald (journalctl -o json)
journald_json() { nsenter -t "$JNS" -m journalctl -D /run/log/journal -o json --no-pager "$@"; }

# collect --journald: each event also in the systemd journal, its fields named, the sandbox's
# bytes escaped; without journald the collector says so once and keeps its own journal
test_collect_journald() {
	local out bad p
	[ -x /lib/systemd/systemd-journald ] || fail "systemd-journald missing (make deps installs systemd)" || return 1
	journald_ns_start || return 1
	: >"$WORK/collect.err"
	bad=$(printf 'j\xe9\001d')
	mkdir -p "$CG/$bad"
	install_cgroup || return 1
	nsenter -t "$JNS" -m --wd="$PWD" "$BIN" collect --name "$INSTANCE" --journald >/dev/null 2>>"$WORK/collect.err" &
	wait_for 50 said 1 "instance '$INSTANCE': collecting into" ||
		fail "the collector does not collect: $(cat "$WORK/collect.err")" || return 1
	want_eperm other connect 10.42.7.11 9401 || return 1
	in_tool "$bad" bash -c 'printf "jd\xe9\x01x" >/proc/$$/comm && exec 3<>/dev/tcp/10.42.7.11/9402' 2>/dev/null
	wait_for 50 eval 'journald_json IRONCLAW_DEST_PORT=9402 | grep -q IRONCLAW' ||
		fail "no entry in journald: $(journald_json | tail -3; cat "$WORK/collect.err")" || return 1
	out=$(journald_json IRONCLAW_INSTANCE="$INSTANCE" IRONCLAW_DEST_PORT=9401)
	echo "$out" | jq -e 'select(.IRONCLAW_VERDICT == "deny" and .IRONCLAW_REASON == "no_rule" and
		.IRONCLAW_DEST_ADDR == "10.42.7.11" and .IRONCLAW_PROTOCOL == "tcp" and
		.PRIORITY == "5" and .SYSLOG_IDENTIFIER == "ironclaw-pipe" and
		.MESSAGE_ID == "5d2b0f3e8c7a4b1f9e6d3c2a1b0f9e8d" and
		(.IRONCLAW_TOOL | endswith("/other")) and
		(.MESSAGE | test("deny +no_rule +tcp .* -> 10.42.7.11:9401 ")))' >/dev/null ||
		fail "the entry of the connect to 9401: $out" || return 1
	out=$(journald_json IRONCLAW_DEST_PORT=9402)
	echo "$out" | jq -e 'select(.IRONCLAW_COMM == "jd\\xe9\\x01x" and
		(.IRONCLAW_TOOL | endswith("/j\\xe9\\x01d")) and
		(.MESSAGE | contains("pid ") and contains("jd\\xe9\\x01x")))' >/dev/null ||
		fail "the sandbox's bytes in journald: $out" || return 1
	# the same event in the collector's own journal
	log_has '"destination":"10.42.7.11:9402"' || fail "the event is not in the instance's journal" || return 1
	# an allowed flow: a record of kind flow, with its rule
	want_ok memscraper connect 10.42.7.11 8080 || return 1
	wait_for 50 eval 'journald_json IRONCLAW_KIND=flow IRONCLAW_DEST_PORT=8080 | grep -q IRONCLAW' ||
		fail "no flow record in journald: $(journald_json IRONCLAW_INSTANCE="$INSTANCE" | tail -3)" || return 1
	out=$(journald_json IRONCLAW_KIND=flow IRONCLAW_DEST_PORT=8080)
	echo "$out" | jq -e 'select(.IRONCLAW_VERDICT == "allow" and .PRIORITY == "6" and
		.MESSAGE_ID == "8e1c2d3b4a5f46e7b8c9d0a1f2e3d4c5" and
		(.IRONCLAW_RULE | endswith("/30-internal.rules:1")))' >/dev/null ||
		fail "the flow record in journald: $out" || return 1
	# journald gone: said once, events still kept
	kill $JOURNALD
	wait $JOURNALD 2>/dev/null
	for p in 9403 9404; do want_eperm other connect 10.42.7.11 $p || return 1; done
	wait_for 50 log_has '"destination":"10.42.7.11:9404"' || fail "no event without journald" || return 1
	[ "$(grep -c "cannot send events to journald" "$WORK/collect.err")" = 1 ] ||
		fail "the collector did not say once that journald is gone: $(cat "$WORK/collect.err")"
}

# the journal stays under its cap while the sandbox floods; the newest events are kept
test_collect_cap_under_flood() {
	local max=65536 b most=0 flood flood2 i
	install_cgroup || return 1
	collector_start --name "$INSTANCE" --journal-size 64K || return 1
	denied_connects other 3 &
	flood=$!
	denied_connects memscraper 3 &
	flood2=$!
	for i in $(seq 60); do # 6 s at most, the flood takes 3
		b=$(journal_bytes)
		[ "$b" -gt "$most" ] && most=$b
		kill -0 $flood 2>/dev/null || break
		sleep 0.1
	done
	wait $flood $flood2
	sleep 1.1 # the next second: the flood used up this one's events
	want_eperm other connect 10.42.7.11 9199 || return 1
	wait_for 50 log_has '"destination":"10.42.7.11:9199"' ||
		fail "the event after the flood is not in the journal: $(cat "$WORK/collect.err"; cat /proc/$COLLECTOR/stack; ls -l "$JOURNAL_DIR")" || return 1
	b=$(journal_bytes)
	[ "$b" -gt "$most" ] && most=$b
	echo "    journal of at most $max bytes: $most at most during a 3 s flood, $(ls "$JOURNAL_DIR" | wc -l) segments now"
	[ "$most" -le "$max" ] || fail "the journal grew to $most bytes, over its cap of $max" || return 1
	[ ! -e "$JOURNAL_DIR/0000000000000001.jrn" ] || fail "the flood rotated nothing (the first segment is still there)" || return 1
	[ "$(stat -c %a "$JOURNAL_DIR"/*.jrn | sort -u)" = 640 ] || fail "segments not 0640: $(stat -c '%a %n' "$JOURNAL_DIR"/*.jrn)"
}

# kill -9 of the collector loses nothing it wrote; a torn tail is cut; the next one says what
# the ring buffer dropped meanwhile
test_collect_kill9_and_torn_tail() {
	local out last
	install_cgroup || return 1
	collector_start --name "$INSTANCE" || return 1
	for p in 9201 9202 9203; do want_eperm other connect 10.42.7.11 $p || return 1; done
	wait_for 50 log_has '"destination":"10.42.7.11:9203"' || fail "no events before the kill" || return 1
	kill -9 $COLLECTOR
	wait $COLLECTOR 2>/dev/null
	out=$("$BIN" log --name "$INSTANCE" --json 2>"$WORK/log.err")
	[ "$(echo "$out" | grep -c '"destination":"10.42.7.11:920[123]"')" = 3 ] ||
		fail "after kill -9 the journal has: $out" || return 1
	grep -q "no collector is running for instance '$INSTANCE'" "$WORK/log.err" ||
		fail "log does not say no collector runs: $(cat "$WORK/log.err")" || return 1
	# meanwhile: more denials than the rate lets through, and a record torn in the middle
	denied_connects other 1
	last=$(ls "$JOURNAL_DIR"/*.jrn | tail -1)
	printf 'ICJR\100\0\0' >>"$last"
	sleep 1.1 # the next second: the flood used up this one's events
	collector_start --name "$INSTANCE" || return 1
	grep -q "instance '$INSTANCE': cut 7 bytes of a torn record" "$WORK/collect.err" ||
		fail "the torn tail was not cut: $(cat "$WORK/collect.err")" || return 1
	grep -q "missed while no collector ran: 0 events (buffer full), [1-9][0-9]* (rate limit)" "$WORK/collect.err" ||
		fail "the restarted collector does not say what was dropped: $(cat "$WORK/collect.err")" || return 1
	want_eperm other connect 10.42.7.11 9204 || return 1
	wait_for 50 log_has '"destination":"10.42.7.11:9204"' || fail "no event after the restart" || return 1
	out=$("$BIN" log --name "$INSTANCE" --json 2>"$WORK/log.err")
	[ "$(echo "$out" | grep -c '"destination":"10.42.7.11:920[1234]"')" = 4 ] ||
		fail "after the restart the journal has: $out" || return 1
	echo "$out" | grep -q '"destination":"10.42.7.12:8081"' || fail "the flood's events that waited in the ring buffer are not in the journal" || return 1
	grep -q "a collector began on instance '$INSTANCE'; events dropped before it: 0 (buffer full), [1-9][0-9]* (rate limit)" "$WORK/log.err" ||
		fail "log does not show the drops: $(cat "$WORK/log.err")"
}

# a tool cgroup and a command named with a control byte and a byte of no UTF-8: escaped in the
# journal's every output (log, log --json, suggest), the bytes kept as they came
test_collect_escapes_sandbox_bytes() {
	local bad out
	bad=$(printf 'b\xe9\001d')
	mkdir -p "$CG/$bad"
	install_cgroup --audit || return 1
	collector_start --name "$INSTANCE" || return 1
	in_tool "$bad" bash -c 'printf "bad\xe9\x01name" >/proc/$$/comm && exec 3<>/dev/tcp/10.42.7.11/8080' ||
		fail "the audited connect failed" || return 1
	wait_for 50 log_has '"comm":"bad\\u00e9\\u0001name"' || fail "no event in the journal: $("$BIN" log --name "$INSTANCE" --json 2>&1)" || return 1
	out=$("$BIN" log --name "$INSTANCE" --json 2>/dev/null)
	echo "$out" | python3 -c 'import json, sys
v = [json.loads(l) for l in sys.stdin.buffer.read().decode("utf-8").splitlines()]
sys.exit(0 if any(e["comm"] == "bad\u00e9\u0001name" and e["tool"].endswith("/b\u00e9\u0001d") for e in v) else 1)' ||
		fail "log --json from the journal: $out" || return 1
	out=$("$BIN" log --name "$INSTANCE" 2>/dev/null)
	echo "$out" | grep -q 'cgroup /icpe2e[0-9]*/b\\xe9\\x01d pid [0-9]* bad\\xe9\\x01name$' ||
		fail "log from the journal: $(echo "$out" | cat -v)" || return 1
	echo "$out" | LC_ALL=C grep -q "$(printf '[\001\351]')" && fail "raw bytes on a terminal line: $(echo "$out" | cat -v)" && return 1
	out=$("$BIN" suggest --name "$INSTANCE" 2>/dev/null)
	# a tool name no profile line can hold: a comment, not a line 'check' would refuse
	echo "$out" | grep -q '^# not a line a profile can hold ([1-9][0-9]* would-deny): allow tcp 10.42.7.11 port 8080 tool b\\xe9\\x01d$' ||
		fail "suggest from the journal: $(echo "$out" | cat -v)" || return 1
	echo "$out" | LC_ALL=C grep -q "$(printf '[\001\351]')" && fail "raw bytes in suggest: $(echo "$out" | cat -v)" && return 1
	return 0
}

# metrics in the Prometheus text format, as promtool checks it: from the command, the collector's
# listener and its textfile; a rule file named with a byte of no UTF-8 still gives valid labels
test_metrics_promtool() {
	local p=$WORK/prof-metrics f out port=$((20000 + $$ % 20000))
	command -v promtool >/dev/null || fail "promtool missing (make deps installs the prometheus package)" || return 1
	mkdir -p "$p"
	cp "$TOOLS_PROFILE"/*.rules "$p/"
	f=$(printf '%s/40-caf\xe9.rules' "$p")
	echo "allow tcp 10.42.7.12 port 8080 tool memscraper" >"$f"
	"$BIN" install --profile "$p" --cgroup "$CG" --sandbox-netns "$SBX" --name "$INSTANCE" \
		>/dev/null || fail "install of $p" || return 1
	want_ok memscraper connect 10.42.7.11 8080 || return 1
	want_eperm other connect 10.42.7.11 8080 || return 1
	"$BIN" allow --name "$INSTANCE" tcp 10.42.7.13 port 8080 >/dev/null || fail "allow" || return 1
	out=$("$BIN" metrics --name "$INSTANCE" 2>&1)
	echo "$out" | promtool check metrics >"$WORK/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$WORK/promtool.out"); metrics: $out" || return 1
	for f in "ironclaw_packets_total{instance=\"$INSTANCE\",verdict=\"deny\",reason=\"no_rule\"} [1-9]" \
		"ironclaw_packets_total{instance=\"$INSTANCE\",verdict=\"allow\",reason=\"rule\"} [1-9]" \
		"ironclaw_tool_allowed_packets_total{instance=\"$INSTANCE\",tool=\"memscraper\"} [1-9]" \
		"ironclaw_generation_switches_total{instance=\"$INSTANCE\"} 2$" \
		"ironclaw_events_dropped_total{instance=\"$INSTANCE\",cause=\"rate_limit\"} [0-9]" \
		"ironclaw_rule_bytes_total{instance=\"$INSTANCE\",rule=\"[0-9]*\",stage=\"internal\",file=\"[^\"]*/40-caf\\\\\\\\xe9.rules\",line=\"1\"} 0$"; do
		echo "$out" | grep -q "^$f" || fail "metrics lack /$f/: $out" || return 1
	done
	out=$("$BIN" metrics --name nosuch 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "no instance 'nosuch' installed" || fail "metrics of no instance: $out" || return 1
	out=$("$BIN" collect --name "$INSTANCE" --metrics-listen 0.0.0.0:$port 2>&1)
	[ $? = 2 ] && echo "$out" | grep -q "not a loopback address" || fail "a listener on every address was not refused: $out" || return 1
	collector_start --name "$INSTANCE" --metrics-listen 127.0.0.1:$port --textfile "$WORK/ironclaw.prom" || return 1
	wait_for 50 test -e "$WORK/ironclaw.prom" || fail "no textfile" || return 1
	promtool check metrics <"$WORK/ironclaw.prom" >"$WORK/promtool.out" 2>&1 ||
		fail "promtool on the textfile: $(cat "$WORK/promtool.out")" || return 1
	out=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' $port 2>&1)
	echo "$out" | grep -q "^ironclaw_packets_total{instance=\"$INSTANCE\",verdict=\"deny\",reason=\"no_rule\"} [1-9]" ||
		fail "GET /metrics: $out" || return 1
	echo "$out" | promtool check metrics >"$WORK/promtool.out" 2>&1 ||
		fail "promtool on GET /metrics: $(cat "$WORK/promtool.out")" || return 1
	out=$(python3 -c 'import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen("http://127.0.0.1:%s/other" % sys.argv[1], timeout=5)
except urllib.error.HTTPError as e:
    print(e.code)' $port 2>&1)
	[ "$out" = 404 ] || fail "GET /other: $out"
}

# flows_json: the journal's flow and query records (log --flows --json)
flows_json() { "$BIN" log --name "$INSTANCE" --flows --json 2>/dev/null; }
flows_have() { flows_json | grep -q -- "$1"; }

# three DNS queries from one unconnected UDP socket (sendto), for api.example
three_queries() {
	in_tool other python3 -c 'import socket
q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03api\x07example\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for _ in range(3):
    s.sendto(q, ("10.42.0.53", 53))
    try:
        s.recv(512)
    except OSError:
        pass'
}

# allowed traffic in log --flows: one record per TCP connection (at connect(), not again for its
# SYN at cgroup_skb), with the rule's file:line; an unconnected socket's datagrams one flow, each
# DNS query a record with its name; none of them among the denials, nor in suggest
test_collect_flows() {
	local out n
	install_cgroup || return 1
	collector_start --name "$INSTANCE" || return 1
	want_ok memscraper connect 10.42.7.11 8080 || return 1
	three_queries || fail "the queries could not be sent" || return 1
	wait_for 50 flows_have '"query":"api.example"' || fail "no query record: $(flows_json)" || return 1
	wait_for 50 flows_have '"hook":"connect4".*"destination":"10.42.7.11:8080".*"kind":"flow"' ||
		fail "no flow record of the connection: $(flows_json)" || return 1
	out=$(flows_json)
	n=$(echo "$out" | grep -c '"destination":"10.42.7.11:8080".*"kind":"flow"')
	[ "$n" = 1 ] || fail "the connection made $n flow records: $out" || return 1
	echo "$out" | grep '"destination":"10.42.7.11:8080"' |
		grep -q '"tool":"/icpe2e[0-9]*/memscraper".*"verdict":"allow","kind":"flow","rule":"[^"]*/30-internal.rules:1"' ||
		fail "the flow's tool or rule: $out" || return 1
	n=$(echo "$out" | grep -c '"hook":"sendmsg4".*"destination":"10.42.0.53:53".*"kind":"flow"')
	[ "$n" = 1 ] || fail "three datagrams of one socket made $n flow records: $out" || return 1
	n=$(echo "$out" | grep -c '"kind":"query","rule":"[^"]*/10-dns.rules:3","query":"api.example"')
	[ "$n" = 3 ] || fail "three queries made $n query records: $out" || return 1
	out=$("$BIN" log --name "$INSTANCE" --flows 2>/dev/null)
	echo "$out" | grep -q "allow      flow .* -> 10.42.7.11:8080 .*connect4/internal cgroup .* rule [^ ]*/30-internal.rules:1$" ||
		fail "log --flows: $out" || return 1
	echo "$out" | grep -q "allow      query .* -> 10.42.0.53:53 .*cgroup_skb/dns cgroup .* query api.example rule [^ ]*/10-dns.rules:3$" ||
		fail "log --flows, a query: $out" || return 1
	n=$("$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep -c '"kind":"\(flow\|query\)"')
	[ "$n" = 0 ] || fail "log without --flows showed $n flows" || return 1
	n=$("$BIN" log --name "$INSTANCE" --flows --json --tool other 2>/dev/null | grep -c 10.42.7.11)
	[ "$n" = 0 ] || fail "--tool other kept $n flows of memscraper" || return 1
	out=$("$BIN" suggest --name "$INSTANCE" 2>/dev/null)
	echo "$out" | grep -q '^allow' && fail "suggest made rules of allowed flows: $out"
	out=$("$BIN" log --name "$INSTANCE" --flows --verdict deny 2>&1)
	[ $? = 2 ] || fail "--flows --verdict deny: $out"
}
