# t_log_audit.sh: the deny log (reasons, escaping, one reader, rate limit), JSON that stays valid
# whatever bytes come in, audit mode (would-deny, suggest, block still blocks; per tool and per
# stage).

area log_audit "tools_profile" "" \
	test_events_budgeted_per_named_tool \
	test_deny_log test_json_hostile_bytes test_audit_mode

# json_ok [PY-EXPR]: stdin is lines of JSON (one at least) in valid UTF-8, and PY-EXPR is true of
# them (v: the list of values)
json_ok() {
	python3 -c 'import json, sys
v = [json.loads(l) for l in sys.stdin.buffer.read().decode("utf-8").splitlines()]
sys.exit(0 if v and eval(sys.argv[1]) else 1)' "${1:-True}"
}

# every denial reaches 'log' with its reason; one reader at a time; floods are rate-limited
test_deny_log() {
	local out f
	install_cgroup --tc-ingress "host0@$CORP" || return 1
	"$BIN" log --name "$INSTANCE" >/dev/null 2>&1 # start from an empty buffer
	want_eperm other connect 10.42.7.11 8080 || return 1
	raw --src 10.42.0.77 --dst 10.42.7.11 --proto tcp --dport 8080 --count 2 || return 1
	sleep 0.2
	out=$("$BIN" log --name "$INSTANCE" --json 2>/dev/null)
	echo "$out" | grep -q '"instance":"'"$INSTANCE"'","hook":"connect4","cgroup":"/icpe2e'$$'/other","tool":"/icpe2e'$$'/other","pid":[1-9][0-9]*,"comm":"netprobe".*"destination":"10.42.7.11:8080","stage":"internal","reason":"no_rule","verdict":"deny"' ||
		fail "no connect4 event for other's denied connect: $out" || return 1
	echo "$out" | grep -q '"hook":"tc".*"source":"10.42.0.77:0".*"reason":"spoofed_source"' ||
		fail "no tc event for the spoofed frames: $out" || return 1
	# the sandbox names its own commands: they are escaped, not trusted
	cp "$BUILD/netprobe" "$WORK/q\"x\\y"
	in_tool other "$WORK/q\"x\\y" connect 10.42.7.12 8080 --timeout-ms 1000 >/dev/null 2>&1
	out=$("$BIN" log --name "$INSTANCE" --json 2>/dev/null)
	echo "$out" | grep -qF '"comm":"q\"x\\y"' || fail "comm not escaped in JSON: $out" || return 1
	"$BIN" log --name "$INSTANCE" --follow >"$WORK/follow" 2>&1 &
	f=$!
	sleep 0.3
	out=$("$BIN" log --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "another 'ironclaw-pipe log' or 'suggest' is reading" ||
		{ kill -INT $f; wait $f; fail "a second reader was not refused: $out"; return 1; }
	raw --src 10.42.0.2 --dst 10.42.7.12 --proto udp --dport 9 --count 600 || return 1
	sleep 0.3
	kill -INT $f
	wait $f || fail "log --follow did not end cleanly on Ctrl-C" || return 1
	grep -q "no_rule" "$WORK/follow" || fail "--follow printed no event" || return 1
	grep -q "no collector keeps the events of instance '$INSTANCE': read from its ring buffer, they are gone once read" "$WORK/follow" ||
		fail "log without a collector does not say that nothing is kept: $(head -3 "$WORK/follow")" || return 1
	"$BIN" status --name "$INSTANCE" --json | grep -q '"rate_limited":[1-9]' ||
		fail "600 denials in a burst were not rate-limited: $("$BIN" status --name "$INSTANCE" --json | grep -o '"events_dropped[^}]*')"
}

# bytes the sandbox and the profile's author choose (a command name with 0xE9 and a control byte,
# a rule file named with 0xE9): every --json output stays valid JSON in valid UTF-8, and a
# terminal line shows them as \xNN
test_json_hostile_bytes() {
	local p=$WORK/prof-bytes f out
	mkdir -p "$p"
	cp "$TOOLS_PROFILE"/*.rules "$p/"
	f=$(printf '%s/40-caf\xe9.rules' "$p")
	echo "allow tcp 10.42.7.12 port 8080 tool memscraper" >"$f"
	out=$("$BIN" check --profile "$p" --sandbox-cgroup "$CG" --json 2>&1)
	echo "$out" | json_ok 'v[0]["valid"]' && echo "$out" | grep -qF '/40-caf\u00e9.rules","line":1,' ||
		fail "check --json with a file name of no UTF-8: $out" || return 1
	"$BIN" install --profile "$p" --cgroup "$CG" --sandbox-netns "$SBX" --name "$INSTANCE" \
		>/dev/null || fail "install of $p" || return 1
	want_ok memscraper connect 10.42.7.12 8080 || return 1
	out=$("$BIN" rules --name "$INSTANCE" --json 2>&1)
	echo "$out" | json_ok 'any(r["file"].endswith("/40-caf\u00e9.rules") and r["packets"] > 0 for r in v[0])' &&
		echo "$out" | grep -qF '/40-caf\u00e9.rules","line":1,"text":"allow tcp 10.42.7.12 port 8080 tool memscraper","packets":' ||
		fail "rules --json with a file name of no UTF-8: $out" || return 1
	out=$("$BIN" explain --name "$INSTANCE" --json tcp 10.42.7.12 8080 tool memscraper 2>&1)
	echo "$out" | json_ok 'v[0]["hooks"][0]["rule"]["file"].endswith("/40-caf\u00e9.rules")' ||
		fail "explain --json with a file name of no UTF-8: $out" || return 1
	"$BIN" status --name "$INSTANCE" --json | json_ok || fail "status --json is no JSON" || return 1
	# and plainly, as \xNN: a byte of no UTF-8 never reaches a terminal raw
	"$BIN" rules --name "$INSTANCE" | grep -qF '/40-caf\xe9.rules:1: allow tcp 10.42.7.12' ||
		fail "plain rules with a file name of no UTF-8: $("$BIN" rules --name "$INSTANCE" | cat -v)" || return 1
	"$BIN" explain --name "$INSTANCE" tcp 10.42.7.12 8080 tool memscraper | grep -qF '/40-caf\xe9.rules:1: allow' ||
		fail "plain explain with a file name of no UTF-8" || return 1
	# the sandbox names its own processes: a shell renames itself, then connects (denied)
	"$BIN" log --name "$INSTANCE" >/dev/null 2>&1
	local rename='printf "bad\xe9\x01name" >/proc/$$/comm && exec 3<>/dev/tcp/10.42.7.11/8080'
	in_tool other bash -c "$rename" 2>/dev/null && fail "other's connect was not denied" && return 1
	out=$("$BIN" log --name "$INSTANCE" --json 2>/dev/null)
	echo "$out" | json_ok 'any(e["comm"] == "bad\u00e9\u0001name" and e["reason"] == "no_rule" for e in v)' &&
		echo "$out" | grep -qF '"comm":"bad\u00e9\u0001name","family":4,' ||
		fail "log --json with a command name of no UTF-8: $out" || return 1
	in_tool other bash -c "$rename" 2>/dev/null
	out=$("$BIN" log --name "$INSTANCE" 2>/dev/null)
	echo "$out" | grep -q ' pid [0-9]* bad\\xe9\\x01name$' ||
		fail "log with a command name of no UTF-8: $(echo "$out" | cat -v)"
}

# audit mode lets denials through, recorded as would-deny; block still blocks
test_audit_mode() {
	local p=$WORK/prof-audit out
	install_cgroup --tc-ingress "host0@$CORP" --audit || return 1
	"$BIN" log --name "$INSTANCE" >/dev/null 2>&1
	"$BIN" status --name "$INSTANCE" | grep -q "AUDIT MODE: everything the policy denies PASSES" ||
		fail "status does not show audit mode" || return 1
	want_ok other connect 10.42.7.11 8080 || return 1
	explain_is 0 other tcp 10.42.7.11 8080 || return 1
	grep -q "^tc          would_deny  no_rule         internal   -" "$WORK/explain.out" ||
		fail "explain in audit mode: $(cat "$WORK/explain.out")" || return 1
	"$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep -q '"destination":"10.42.7.11:8080".*"reason":"no_rule","verdict":"would-deny"' ||
		fail "no would-deny event" || return 1
	[ "$(count would_deny)" -ge 1 ] || fail "would_deny not counted" || return 1
	# suggest turns what audit let through into lines that check accepts, and that allow it
	want_ok other connect 10.42.7.11 8080 || return 1
	want_ok other connect 10.42.7.11 8080 || return 1
	"$BIN" suggest --name "$INSTANCE" >"$WORK/suggested" 2>/dev/null || fail "suggest" || return 1
	grep -q "^allow tcp 10.42.7.11 port 8080 tool other  # [1-9][0-9]* would-deny$" "$WORK/suggested" ||
		fail "suggest: $(cat "$WORK/suggested")" || return 1
	mkdir -p "$p"
	cp "$TOOLS_PROFILE"/*.rules "$p/"
	grep "10.42.7.11 port 8080 tool other" "$WORK/suggested" >"$p/60-suggested.rules"
	"$BIN" check --profile "$p" --sandbox-cgroup "$CG" >/dev/null || fail "check refuses suggest's lines" || return 1
	"$BIN" install --profile "$p" --cgroup "$CG" --sandbox-netns "$SBX" --name "$INSTANCE" \
		>/dev/null 2>&1 || fail "install of the suggested profile" || return 1
	want_ok other connect 10.42.7.11 8080 || fail "the suggested rule does not allow it" || return 1
	rm -f "$p/60-suggested.rules"
	"$BIN" block --name "$INSTANCE" >/dev/null
	want_eperm other connect 10.42.7.11 8080 || fail "audit let a blocked instance through" || return 1
	install_cgroup --tc-ingress "host0@$CORP" || return 1
	want_eperm other connect 10.42.7.11 8080 || return 1
	# audit for one tool, and for one stage
	mkdir -p "$p"
	cp "$TOOLS_PROFILE"/*.rules "$p/"
	printf 'audit tool other\naudit stage https\n' >"$p/05-audit.rules"
	"$BIN" install --profile "$p" --cgroup "$CG" --sandbox-netns "$SBX" --name "$INSTANCE" \
		>/dev/null 2>&1 || fail "install with audit lines" || return 1
	want_ok other connect 10.42.7.11 8080 || return 1
	want_ok memscraper connect 203.0.113.9 443 || return 1
	want_eperm memscraper connect 10.42.7.12 8080 || return 1
	printf 'audit stage nosuch\n' >"$p/05-audit.rules"
	out=$("$BIN" check --profile "$p" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "05-audit.rules:1: audit names stage 'nosuch'" ||
		fail "unknown audited stage: $out" || return 1
	printf 'audit tool ghost\n' >"$p/05-audit.rules"
	out=$("$BIN" install --profile "$p" --cgroup "$CG" --sandbox-netns "$SBX" --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "05-audit.rules:1: tool 'ghost': no cgroup" ||
		fail "unknown audited tool: $out"
}

# a tool the profile names has its own budget of events; every other sender shares one: a
# sandbox that makes many cgroups cannot flood the log, nor crowd out a named tool's events
test_events_budgeted_per_named_tool() {
	local i out others t0 t1 allowed attempt
	install_cgroup --tc-ingress "host0@$CORP" || return 1
	"$BIN" log --name "$INSTANCE" >/dev/null 2>&1 # start from an empty buffer
	local go=$WORK/go burst=$WORK/burst.py
	# each waits for the go (up to 10 s), so the burst itself is short: no process start in it
	cat >"$burst" <<-EOF
		import os, socket, time
		t = time.time() + 10
		while not os.path.exists("$go") and time.time() < t:
		    time.sleep(0.001)
		for _ in range(100):
		    s = socket.socket()
		    try:
		        s.connect(("10.42.7.12", 8080))
		    except OSError:
		        pass
		    s.close()
	EOF
	for i in $(seq 10); do mkdir -p "$CG/flood$i"; done
	# a burst that takes 5 s or more cannot tell one budget from ten (a loaded machine): again,
	# up to three times, from an empty buffer
	for attempt in 1 2 3; do
		"$BIN" log --name "$INSTANCE" >/dev/null 2>&1
		rm -f "$go"
		for i in $(seq 10); do
			in_tool "flood$i" python3 "$burst" &
		done
		sleep 2 # every process started and waiting
		t0=$(date +%s.%N)
		touch "$go"
		wait
		t1=$(date +%s.%N)
		allowed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print 200 * (int(b) - int(a) + 1) }')
		[ "$allowed" -lt 1000 ] && break
		echo "    attempt $attempt: the burst took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
		sleep 1.1
	done
	want_eperm memscraper connect 10.42.7.12 8080 || return 1
	out=$("$BIN" log --name "$INSTANCE" --json 2>/dev/null)
	others=$(echo "$out" | grep -c '"tool":"/icpe2e'$$'/flood')
	# 200 a second for all of them together, in every second the burst touched
	echo "    1000 denials from 10 cgroups no rule names in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s: $others events (at most $allowed)"
	[ "$allowed" -lt 1000 ] || fail "the burst took too long to tell one budget from ten" || return 1
	[ "$others" -ge 1 ] && [ "$others" -le "$allowed" ] ||
		fail "$others events from 10 cgroups the profile does not name: each had a budget of its own" || return 1
	echo "$out" | grep -q '"tool":"/icpe2e'$$'/memscraper".*"destination":"10.42.7.12:8080"' ||
		fail "the named tool's event was crowded out" || return 1
	"$BIN" status --name "$INSTANCE" --json | grep -q '"rate_limited":[1-9]' ||
		fail "the burst was not rate-limited"
}
