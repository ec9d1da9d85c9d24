# t_crash.sh: crash consistency. The loader is killed (SIGKILL) at random points of install,
# reload, allow, revoke and uninstall while two paced flows run from the sandbox: one allowed,
# one to a destination no profile allows, captured at its server (after the filter). Nothing
# of the denied flow arrives while an instance is installed; the allowed flow loses nothing;
# the command run again after a kill finishes the job, with no cleanup by hand.
#
# CRASH_KILLS (default 300: make crash-test; make test runs 20) kills, delays drawn from
# CRASH_SEED (default 11): the same seed draws the same delays.

area crash "flow_profiles" "" \
	test_crash_edit_run_again test_crash_uninstall_run_again test_crash_first_install_run_again \
	test_crash_in_place_kill_points test_crash_switches_killed_after_the_flip test_crash_kill_anywhere

CRASH_RULE="udp 10.42.7.20 port 7"

# crash_cmd OP: the command line of OP (install-a, install-b, reload, allow, revoke, uninstall)
crash_cmd() {
	case $1 in
	install-a | install-b)
		echo "$BIN" install --profile "$WORK/crash-${1#install-}" --tc-ingress "host0@$CORP" \
			--sandbox-netns "$SBX" --sandbox-cgroup "$CG" --name "$INSTANCE" ;;
	reload | uninstall) echo "$BIN" "$1" --name "$INSTANCE" ;;
	allow | revoke) echo "$BIN" "$1" --name "$INSTANCE" $CRASH_RULE ;;
	esac
}

# crash_flow DST COUNTER-FILE STOP-FILE: paced UDP frames from the sandbox, 1 ms apart, in runs
# of 1000 until STOP-FILE exists; each run's "sent N frames" is appended to COUNTER-FILE
crash_flow() {
	while [ ! -e "$3" ]; do
		sbx "$BUILD/rawframe" sbx0 --dst-mac "$HOST_MAC" --src 10.42.0.2 --dst "$1" --proto udp \
			--dport 9000 --sport 41002 --count 1000 --interval-us 1000 >>"$2" || return 1
		echo >>"$2"
	done
}

# the two profiles installs switch between: the shipped one with the allowed flow and 20 more
# rules (its internal stage holds more than 16: allow and revoke of CRASH_RULE go in place,
# intent first), and the shipped one with the flow and one more rule (the internal stage's few
# rules are in its program: allow and revoke switch)
crash_profiles() {
	local i
	mkdir -p "$WORK/crash-a" "$WORK/crash-b"
	cp rules.d/*.rules "$WORK/crash-a/"
	echo "allow udp 10.42.7.11 port 9000" >"$WORK/crash-a/40-flow.rules"
	cp "$WORK/crash-a/"*.rules "$WORK/crash-b/"
	echo "allow tcp 10.42.7.20 port 5432" >>"$WORK/crash-b/40-flow.rules"
	for i in $(seq 20); do echo "allow udp 10.42.9.$i port 9100"; done >"$WORK/crash-a/45-more.rules"
}

crash_sent() { grep -o 'sent [0-9]*' "$1" | awk '{ s += $2 } END { print s + 0 }'; }
crash_denied_seen() { grep -c "udp from" "$LOGS/flow-denied.log"; }
crash_rule_in_force() {
	"$BIN" rules --name "$INSTANCE" 2>/dev/null | grep -q "90-live.rules:[0-9]*: allow $CRASH_RULE"
}
crash_installed() { [ -e "$PIN_DIR/ctl" ] && "$BIN" status --name "$INSTANCE" >/dev/null 2>&1; }

# crash_snap: what the instance is now, in SNAP_*: status's exit and generation, the drop-in,
# the rule list, whether pins and state are there (one status a call: it runs after every kill)
crash_snap() {
	local j
	j=$("$BIN" status --name "$INSTANCE" --json 2>/dev/null)
	SNAP_OK=$?
	SNAP_GEN=$(echo "$j" | grep -o '"generation":[01]')
	SNAP_DROPIN=$(cat "$LIVE_RULES_FILE" 2>/dev/null)
	SNAP_LIST=$(cat "$RULES_FILE" 2>/dev/null)
	SNAP_PINS=$([ -e "$PIN_DIR/ctl" ] && echo ctl || { [ -e "$PIN_DIR" ] && echo some; })
	SNAP_STATE=$([ -e "$INSTANCE_STATE" ] && echo yes)
	SNAP_INTENT=$([ -e "$INSTANCE_STATE/edit.intent" ] && echo yes)
	SNAP_EDITS=$(cat "$INSTANCE_STATE/rules.edits" 2>/dev/null)
}

# crash_where OP FRESH GEN DROPIN LIST EDITS: where the kill of OP landed, as what it left
# (SNAP_*, taken after it; GEN, DROPIN, LIST and EDITS were so before it). An edit in place
# (profile a) records its intent, then writes the drop-in, the rule map, the rule list's edits,
# and removes the intent: killed with the intent there, the next command finishes it
crash_where() {
	local op=$1
	if [ "$op" = uninstall ] || [ "$2" = 1 ]; then
		if [ "$SNAP_OK" = 0 ] && [ "$SNAP_PINS" = ctl ]; then
			echo "$op: installed"
		elif [ -n "$SNAP_PINS$SNAP_STATE" ]; then
			echo "$op: part there"
		else
			echo "$op: nothing there"
		fi
	elif [ -n "$SNAP_INTENT" ] && [ "$SNAP_DROPIN" = "$4" ]; then
		echo "$op: in place, intent recorded, drop-in not yet written"
	elif [ -n "$SNAP_INTENT" ]; then
		echo "$op: in place, intent recorded, drop-in written"
	elif [ "$SNAP_GEN" = "$3" ] && [ "$SNAP_EDITS" != "$6" ]; then
		echo "$op: in place, done"
	elif [ "$SNAP_GEN" != "$3" ] && [ "$SNAP_LIST" = "$5" ]; then
		echo "$op: switched, rule list not yet written"
	elif [ "$SNAP_GEN" != "$3" ]; then
		echo "$op: switched, rule list written"
	elif [ "$SNAP_DROPIN" != "$4" ]; then
		echo "$op: drop-in edited, not switched"
	else
		echo "$op: before any change"
	fi
}

# the job OP run until one run ends by itself; the runs before it killed after a random delay
# (within the command's time, as its last runs took); then the end state OP promises
crash_job() {
	local op=$1 pid rc out killed=0 fresh=0 ms gen dropin list edits w t0 key=$1
	[ -e "$PIN_DIR/ctl" ] || fresh=1
	# an edit's time: in place over profile a, a switch over b
	case $op in allow | revoke) key=$op-$CRASH_PROFILE ;; esac
	[ -n "${CRASH_MS[$key]:-}" ] || CRASH_MS[$key]=${CRASH_MS[$op]}
	crash_snap
	while :; do
		gen=$SNAP_GEN dropin=$SNAP_DROPIN list=$SNAP_LIST edits=$SNAP_EDITS
		t0=$(now_ms)
		# one run in six is left to finish: the next command after the kills before it
		if [ $((RANDOM % 6)) = 0 ]; then
			out=$($(crash_cmd "$op") 2>&1 >/dev/null)
			rc=$?
			echo "$op: whole run, exit $rc, $(($(now_ms) - t0)) ms" >>"$WORK/crash.trace"
			break
		fi
		# within the command's time; one kill in four in its last quarter, where the switch
		# and what follows it are
		if [ $((RANDOM % 4)) = 0 ]; then
			ms=$((${CRASH_MS[$key]} * 3 / 4 + RANDOM * ${CRASH_MS[$key]} / 4 / 32768))
		else
			ms=$((RANDOM * ${CRASH_MS[$key]} / 32768))
		fi
		$(crash_cmd "$op") >/dev/null 2>"$WORK/crash.err" &
		pid=$!
		read -rt "$((ms / 1000)).$(printf %03d $((ms % 1000)))" <>"$WORK/crash.fifo"
		kill -KILL "$pid" 2>/dev/null
		{ wait "$pid"; } 2>/dev/null
		rc=$?
		if [ $rc != 137 ]; then # it ended before the kill
			out=$(cat "$WORK/crash.err")
			echo "$op: ended before the kill at $ms ms, exit $rc" >>"$WORK/crash.trace"
			break
		fi
		killed=$((killed + 1))
		CRASH_KILLS_DONE=$((CRASH_KILLS_DONE + 1))
		crash_snap
		CRASH_WHERE+=("$(crash_where "$op" "$fresh" "$gen" "$dropin" "$list" "$edits")")
		echo "killed at $ms ms: ${CRASH_WHERE[-1]}" >>"$WORK/crash.trace"
		w=$((ms * 10 / (${CRASH_MS[$key]} + 1)))
		[ $w -lt 10 ] || w=10
		CRASH_DECILE[$w]=$((${CRASH_DECILE[$w]:-0} + 1))
	done
	# the window follows the command's own time (the first runs are the slowest)
	CRASH_MS[$key]=$(((${CRASH_MS[$key]} + $(now_ms) - t0 + 1) / 2))
	case $op:$rc in install-*:0) CRASH_PROFILE=${op#install-} ;; esac
	# what the command that finished says, after $killed kills
	case $op:$rc in
	*:0) ;;
	allow:1) [ $killed -gt 0 ] && echo "$out" | grep -q "duplicate of" ;;
	revoke:1) [ $killed -gt 0 ] && echo "$out" | grep -q "was not added with allow" ;;
	uninstall:*) [ $killed -gt 0 ] && echo "$out" | grep -q "no instance" ;;
	*) false ;;
	esac || fail "$op after $killed kills: exit $rc: $out" || return 1
	case $op in
	install-* | reload)
		crash_installed || fail "$op after $killed kills: not installed: $("$BIN" status --name "$INSTANCE" 2>&1)" ;;
	allow)
		crash_rule_in_force || fail "allow after $killed kills (exit $rc: $out): the rule is not in force" ;;
	revoke)
		! crash_rule_in_force || fail "revoke after $killed kills (exit $rc: $out): the rule is still in force" ;;
	uninstall)
		[ ! -e "$PIN_DIR" ] && [ ! -e "$INSTANCE_STATE" ] ||
			fail "uninstall after $killed kills (exit $rc: $out) left: $(ls "$PIN_DIR" "$INSTANCE_STATE" 2>&1 | tr '\n' ' ')" ;;
	esac
}

# allow and revoke write the drop-in, then switch: killed between the two, the drop-in says one
# thing and the policy in force another. The same command run again finishes the job (it used
# to refuse: "duplicate of", "was not added with allow", and the policy stayed as it was).
test_crash_edit_run_again() {
	local out
	install_ingress "$FLOW_PROFILE" || return 1
	# an allow killed after its drop-in write: the rule is in the drop-in, not in force
	mkdir -p "$DROPIN_DIR"
	echo "allow $CRASH_RULE" >"$LIVE_RULES_FILE"
	! crash_rule_in_force || fail "the rule is in force before any switch" || return 1
	out=$("$BIN" allow --name "$INSTANCE" $CRASH_RULE 2>&1) || fail "allow run again: $out" || return 1
	crash_rule_in_force || fail "allow run again: the rule is not in force: $out" || return 1
	[ "$(cat "$LIVE_RULES_FILE")" = "allow $CRASH_RULE" ] ||
		fail "the drop-in holds: $(cat "$LIVE_RULES_FILE")" || return 1
	# in force and in the drop-in: a duplicate, as before
	out=$("$BIN" allow --name "$INSTANCE" $CRASH_RULE 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "duplicate of" || fail "a second allow: $out" || return 1
	# a revoke killed after its drop-in write: the rule is out of the drop-in, still in force
	: >"$LIVE_RULES_FILE"
	out=$("$BIN" revoke --name "$INSTANCE" $CRASH_RULE 2>&1) || fail "revoke run again: $out" || return 1
	! crash_rule_in_force || fail "revoke run again: the rule is still in force: $out" || return 1
	expect_denied udp 10.42.7.20 7 || return 1
	out=$("$BIN" revoke --name "$INSTANCE" $CRASH_RULE 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "was not added with allow" || fail "a second revoke: $out"
}

# uninstall detaches the links, removes the pins, then the state: killed after its pins went,
# it leaves the state (the drop-in's live edits too). uninstall run again removes it (it used
# to say "no instance installed" and leave it), and an install after it starts without the
# old live edits (it used to put them in force again)
test_crash_uninstall_run_again() {
	local out l
	install_ingress "$FLOW_PROFILE" || return 1
	"$BIN" allow --name "$INSTANCE" $CRASH_RULE >/dev/null || fail "allow" || return 1
	for l in "$PIN_DIR"/link*; do bpftool link detach pinned "$l" || fail "detach $l" || return 1; done
	rm -r "$PIN_DIR"
	out=$("$BIN" uninstall --name "$INSTANCE" 2>&1) || fail "uninstall run again: $out"
	[ ! -e "$INSTANCE_STATE" ] || fail "uninstall run again left $(ls "$INSTANCE_STATE")" || return 1
	# the same kill, then an install
	install_ingress "$FLOW_PROFILE" || return 1
	"$BIN" allow --name "$INSTANCE" $CRASH_RULE >/dev/null || fail "allow" || return 1
	for l in "$PIN_DIR"/link*; do bpftool link detach pinned "$l" || fail "detach $l" || return 1; done
	rm -r "$PIN_DIR"
	install_ingress "$FLOW_PROFILE" || return 1
	! crash_rule_in_force || fail "a new install put the live edit of the uninstalled one in force" || return 1
	expect_denied udp 10.42.7.20 7
}

# a first install pins the shared maps, the control word first, then attaches: killed between
# the two, it leaves a control word with nothing attached. The install run again starts over
# (it used to take it for a running instance and stop: "pinned map 'config' missing")
test_crash_first_install_run_again() {
	local out
	crash_profiles
	mkdir -p "$PIN_DIR"
	bpftool map create "$PIN_DIR/ctl" type array key 4 value 4 entries 1 name ctl flags 1024 ||
		fail "bpftool map create" || return 1
	out=$($(crash_cmd install-a) 2>&1) || fail "install run again: $out" || return 1
	crash_installed || fail "not installed: $("$BIN" status --name "$INSTANCE" 2>&1)" || return 1
	expect_denied udp 10.42.7.20 7 || return 1
	expect_ok connect 10.42.7.11 8080
}

crash_gen() { "$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]'; }

# an edit in place killed right after each of its steps (IRONCLAW_KILL_AT, pipeline_edit.c):
# its intent, the drop-in, the rule map, the rule list's edits. The intent is recorded first, so
# the next command that takes the lock (here the same edit run again) finishes it: the new
# policy, packets judged by it, and no switch; the edit run again then finds it done
test_crash_in_place_kill_points() {
	local step out rc gen
	crash_profiles
	$(crash_cmd install-a) >/dev/null || fail "install" || return 1
	gen=$(crash_gen)
	for step in intent drop-in map edits; do
		{ IRONCLAW_KILL_AT=$step $(crash_cmd allow) >/dev/null 2>&1; } 2>/dev/null
		rc=$?
		[ $rc = 137 ] || fail "allow was not killed at '$step' (exit $rc): not in place?" || return 1
		[ -e "$INSTANCE_STATE/edit.intent" ] || fail "allow killed at '$step' left no intent" || return 1
		out=$($(crash_cmd allow) 2>&1)
		[ $? = 1 ] && echo "$out" | grep -q "duplicate of" ||
			fail "allow run again after a kill at '$step': $out" || return 1
		[ ! -e "$INSTANCE_STATE/edit.intent" ] || fail "the intent of '$step' stayed" || return 1
		crash_rule_in_force || fail "allow killed at '$step': not in force after the next command" || return 1
		[ "$(grep -c "allow $CRASH_RULE" "$LIVE_RULES_FILE")" = 1 ] ||
			fail "allow killed at '$step': the drop-in holds: $(cat "$LIVE_RULES_FILE")" || return 1
		raw_delta rule 2 --src 10.42.0.2 --dst 10.42.7.20 --proto udp --dport 7 --count 2 || return 1
		{ IRONCLAW_KILL_AT=$step $(crash_cmd revoke) >/dev/null 2>&1; } 2>/dev/null
		rc=$?
		[ $rc = 137 ] || fail "revoke was not killed at '$step' (exit $rc)" || return 1
		out=$($(crash_cmd revoke) 2>&1)
		[ $? = 1 ] && echo "$out" | grep -q "was not added with allow" ||
			fail "revoke run again after a kill at '$step': $out" || return 1
		! crash_rule_in_force || fail "revoke killed at '$step': in force after the next command" || return 1
		[ ! -s "$LIVE_RULES_FILE" ] || fail "revoke killed at '$step': the drop-in holds: $(cat "$LIVE_RULES_FILE")" || return 1
		raw_delta no_rule 2 --src 10.42.0.2 --dst 10.42.7.20 --proto udp --dport 7 --count 2 || return 1
	done
	[ "$(crash_gen)" = "$gen" ] || fail "the edits in place switched: $gen -> $(crash_gen)"
}

# two switches, each killed right after its flip (IRONCLAW_KILL_AT=flipped, pipeline.c): every
# generation has rule maps of its own, pinned after the flip, so the pins still name the first
# install's maps, of the generation now in force again; an allow then must not go into those
# (in place, judged by nothing) but switch: its packets are allowed
test_crash_switches_killed_after_the_flip() {
	local op rc
	crash_profiles
	$(crash_cmd install-a) >/dev/null || fail "install" || return 1
	for op in install-b install-a; do
		{ IRONCLAW_KILL_AT=flipped $(crash_cmd $op) >/dev/null 2>&1; } 2>/dev/null
		rc=$?
		[ $rc = 137 ] || fail "$op was not killed after its flip (exit $rc)" || return 1
	done
	"$BIN" allow --name "$INSTANCE" $CRASH_RULE >/dev/null || fail "allow" || return 1
	raw_delta rule 2 --src 10.42.0.2 --dst 10.42.7.20 --proto udp --dport 7 --count 2 || return 1
	"$BIN" revoke --name "$INSTANCE" $CRASH_RULE >/dev/null || fail "revoke" || return 1
	raw_delta no_rule 2 --src 10.42.0.2 --dst 10.42.7.20 --proto udp --dport 7 --count 2
}

test_crash_kill_anywhere() {
	local want=${CRASH_KILLS:-300} seed=${CRASH_SEED:-11} op t0 stop=$WORK/crash.stop
	local denied_base allowed_base leaked=0 allowed sent_a sent_d i w start
	local -A CRASH_MS
	local CRASH_WHERE=() CRASH_DECILE=() CRASH_KILLS_DONE=0 CRASH_PROFILE=a
	crash_profiles
	mkfifo "$WORK/crash.fifo"
	# each command's time, run once whole: the kills land within it
	for op in install-a allow revoke reload install-b uninstall; do
		t0=$(now_ms)
		$(crash_cmd "$op") >/dev/null 2>&1 || fail "$op failed before any kill" || return 1
		CRASH_MS[$op]=$(($(now_ms) - t0 + 1))
	done
	CRASH_MS[install-a]=${CRASH_MS[install-b]}
	echo "    command times (ms): $(for op in "${!CRASH_MS[@]}"; do printf '%s=%s ' "$op" "${CRASH_MS[$op]}"; done)"
	$(crash_cmd install-a) >/dev/null || fail "install" || return 1
	sleep 0.3
	allowed_base=$(grep -c "udp from" "$LOGS/flow-allowed.log")
	denied_base=$(crash_denied_seen)
	crash_flow 10.42.7.11 "$WORK/crash.sent-allowed" "$stop" &
	crash_flow 10.42.7.12 "$WORK/crash.sent-denied" "$stop" &
	defer touch "$stop"
	RANDOM=$seed
	start=$(now_ms)
	i=0
	while [ "$CRASH_KILLS_DONE" -lt "$want" ]; do
		i=$((i + 1))
		for op in install-$([ $((i % 2)) = 1 ] && echo b || echo a) allow revoke reload; do
			crash_job "$op" || break 2
		done
		# an uninstall opens on purpose: the denied flow counts up to it, and again from the
		# moment the next install is in force
		leaked=$((leaked + $(crash_denied_seen) - denied_base))
		crash_job uninstall || break
		crash_job install-a || break
		sleep 0.1 # frames sent before the install's links were attached have arrived
		denied_base=$(crash_denied_seen)
	done
	echo "    $CRASH_KILLS_DONE kills in $((($(now_ms) - start) / 1000)) s (seed $seed, $i rounds)"
	leaked=$((leaked + $(crash_denied_seen) - denied_base))
	touch "$stop"
	wait
	sleep 0.3
	allowed=$(($(grep -c "udp from" "$LOGS/flow-allowed.log") - allowed_base))
	sent_a=$(crash_sent "$WORK/crash.sent-allowed")
	sent_d=$(crash_sent "$WORK/crash.sent-denied")
	echo "    allowed flow: $allowed of $sent_a frames arrived; denied flow: $leaked of $sent_d while installed"
	echo "    where the kills landed:"
	printf '%s\n' "${CRASH_WHERE[@]}" | sort | uniq -c | sed 's/^/      /'
	echo "    when, in tenths of the command's time (the last: past it): $(for i in 0 1 2 3 4 5 6 7 8 9 10; do printf '%s ' "${CRASH_DECILE[$i]:-0}"; done)"
	[ -e "$FAIL_FILE" ] && { echo "    the last runs:"; tail -12 "$WORK/crash.trace" | sed 's/^/      /'; return 1; }
	[ "$CRASH_KILLS_DONE" -ge "$want" ] || fail "only $CRASH_KILLS_DONE kills"
	[ "$leaked" = 0 ] || fail "the denied flow delivered $leaked frames while an instance was installed"
	[ "$allowed" = "$sent_a" ] || fail "the allowed flow lost $((sent_a - allowed)) of $sent_a frames"
	[ "$sent_a" -gt 1000 ] && [ "$sent_d" -gt 1000 ] || fail "the flows sent too little: $sent_a, $sent_d"
}
