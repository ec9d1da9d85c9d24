# t_lifecycle.sh: an instance's life: uninstall leaves nothing, block, a refused profile or a failed
# attach keeps the running policy, installs and live edits switch under paced flows losing nothing,
# and a sandbox link created again is noticed.

area lifecycle "flow_profiles" "" \
	test_uninstall_leaves_nothing test_block_then_install test_block_while_an_install_is_stopped test_bad_profile_keeps_running_policy \
	test_install_over_install_during_flow test_status_notices_lost_attachment \
	test_earlier_build_state_reloaded_and_removed test_previous_build_reloaded_and_removed

test_uninstall_leaves_nothing() {
	install_ingress || return 1
	local ids link maps dispatcher
	ids=$("$BIN" status --name "$INSTANCE" --json | grep -o '"prog_id":[0-9]*' | cut -d: -f2)
	# KIND:ID of each attachment: a tcx link's id, or the program id of a classic tc filter
	link=$("$BIN" status --name "$INSTANCE" --json | grep -o '"kind":"[a-z ]*",[^}]*"link_id":[0-9]*' |
		sed 's/"kind":"\([a-z ]*\)".*"link_id":\([0-9]*\)/\1:\2/' | tr ' ' _)
	[ -n "$ids" ] && [ -n "$link" ] || fail "status shows no programs or link"
	dispatcher=$(bpftool prog show pinned "$PIN_DIR/dispatch_tc" | grep -o '^[0-9]*')
	maps=$(for m in "$PIN_DIR"/*; do
		bpftool map show pinned "$m" 2>/dev/null | grep -o '^[0-9]*'
	done)
	[ -n "$dispatcher" ] && [ "$(echo "$maps" | wc -w)" -ge 9 ] || fail "pins not found: $dispatcher / $maps"
	"$BIN" uninstall --name "$INSTANCE" | grep -q "no longer filtered" || fail "uninstall message"
	[ ! -e "$PIN_DIR" ] || fail "pins left in $PIN_DIR"
	for id in $ids; do
		! bpftool prog show id "$id" >/dev/null 2>&1 || fail "stage program $id still loaded"
	done
	for id in $link; do
		case $id in
		tc_filter:*) ! bpftool prog show id "${id#*:}" >/dev/null 2>&1 || fail "filter program $id still loaded" ;;
		*) ! bpftool link show id "${id#*:}" >/dev/null 2>&1 || fail "link $id still exists" ;;
		esac
	done
	! ip netns exec "$CORP" tc qdisc show dev host0 | grep -q clsact || fail "a clsact qdisc is left on host0"
	! bpftool prog show id "$dispatcher" >/dev/null 2>&1 || fail "dispatcher $dispatcher still loaded"
	for id in $maps; do
		! bpftool map show id "$id" >/dev/null 2>&1 || fail "map $id still exists"
	done
	[ -z "$(lock_files "$INSTANCE")" ] || fail "lock files left"
	[ ! -e "$INSTANCE_STATE" ] || fail "runtime state left in $INSTANCE_STATE"
	expect_ok connect 10.42.7.11 8081 --timeout-ms 2000 || fail "egress still filtered after uninstall"
}

test_block_then_install() {
	install_ingress || return 1
	"$BIN" block --name "$INSTANCE" >/dev/null || fail "block failed"
	"$BIN" status --name "$INSTANCE" | grep -q BLOCKED || fail "status does not say BLOCKED"
	expect_denied connect 10.42.7.11 8080 || return 1
	[ "$(count blocked)" -ge 1 ] || fail "blocked counter did not move"
	install_ingress || return 1
	expect_ok connect 10.42.7.11 8080
}

# block takes no lock: an install stopped while it holds the instance lock cannot keep it back,
# and the install, continued, ends with the block still in force (it came after it began)
test_block_while_an_install_is_stopped() {
	local pid lock ino i held=
	install_ingress || return 1
	lock=$INSTANCE_STATE/lock
	"$BIN" install --profile rules.d --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" >/dev/null 2>&1 &
	pid=$!
	defer kill -CONT "$pid"
	ino=$(stat -c %i "$lock")
	for i in $(seq 400); do
		# /proc/locks: "... FLOCK ADVISORY WRITE PID MAJ:MIN:INODE ..."
		if awk -v p="$pid" -v i="$ino" '$2 == "FLOCK" && $5 == p && $6 ~ ":" i "$"' /proc/locks | grep -q .; then
			kill -STOP "$pid" && held=1
			break
		fi
		sleep 0.005
	done
	[ -n "$held" ] || { wait "$pid"; fail "the install never held the lock"; return 1; }
	timeout 5 "$BIN" block --name "$INSTANCE" >/dev/null || fail "block waited for the stopped install's lock" || return 1
	expect_denied connect 10.42.7.11 8080 || return 1
	kill -CONT "$pid"
	wait "$pid" || fail "the install failed after it was continued" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q BLOCKED || fail "the install undid a block that came after it began" || return 1
	expect_denied connect 10.42.7.11 8080
}

test_bad_profile_keeps_running_policy() {
	local p=$WORK/prof-typo gen out
	install_ingress || return 1
	gen=$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]')
	mkdir -p "$p"
	cp rules.d/*.rules "$p/"
	printf 'allow tcp 10.42.7.12 port 8080\nallow tcp 10.42.7.12 port 70000\n' >"$p/40-typo.rules"
	expect_refused "$p" "$p/40-typo.rules:2: port '70000' out of range (1-65535)" || return 1
	[ "$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]')" = "$gen" ] ||
		fail "generation changed after a refused profile"
	expect_ok connect 10.42.7.11 8080 || return 1
	expect_denied connect 10.42.7.12 8080 || return 1
	# a long file (the dispatcher is verified while it is parsed): refused at its line, at
	# once, the running policy kept; the same file fixed goes in, through the preload
	{
		seq -f '# line %.0f' 1 70000
		printf 'allow tcp 10.42.7.12 port 8080\nallow tcp 10.42.7.12 port 70000\n'
	} >"$p/40-typo.rules"
	expect_refused "$p" "$p/40-typo.rules:70002: port '70000' out of range (1-65535)" || return 1
	[ "$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]')" = "$gen" ] ||
		fail "generation changed after a refused long profile"
	expect_denied connect 10.42.7.12 8080 || return 1
	sed -i '$d' "$p/40-typo.rules"
	out=$(IRONCLAW_PHASES=1 "$BIN" install --profile "$p" --tc-ingress "host0@$CORP" \
		--sandbox-netns "$SBX" --sandbox-cgroup "$CG" --name "$INSTANCE" 2>&1 >/dev/null) ||
		fail "install of the long profile failed: $out"
	echo "$out" | grep -q "^phase dispatcher verified during the parse:" ||
		fail "the long profile's dispatcher was not verified during its parse: $out"
	expect_ok connect 10.42.7.12 8080 || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	install_ingress || return 1
	gen=$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]')
	# a failure after the new generation is filled and the links moved: all rolled back
	echo "allow tcp 10.42.7.12 port 8080" >"$p/40-typo.rules"
	out=$("$BIN" install --profile "$p" --tc-ingress "host0@$CORP" --tc-ingress "nope0@$CORP" \
		--sandbox-netns "$SBX" --sandbox-cgroup "$CG" --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "no interface 'nope0'" || fail "attach failure: $out"
	[ "$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]')" = "$gen" ] ||
		fail "generation changed after a failed attach"
	"$BIN" status --name "$INSTANCE" --json | grep -q '"entries":1}' ||
		fail "the internal stage should still hold one entry"
	expect_ok connect 10.42.7.11 8080 || return 1
	expect_denied connect 10.42.7.12 8080 || return 1
}

# installs, live edits, reloads and a new version of a stage object, under two paced flows
test_install_over_install_during_flow() {
	local a=$WORK/prof-a b=$WORK/prof-b gens="" step
	local zero=(--src 10.42.0.2 --dst 10.42.7.11 --proto udp --dport 9000 --sport 0 --count 1)
	mkdir -p "$a" "$b"
	cp rules.d/*.rules "$a/"
	echo "allow udp 10.42.7.11 port 9000" >"$a/40-flow.rules"
	install -m 0644 "$BUILD/tests/stage_flow.bpf.o" "$a/45-flow.bpf.o"
	cp rules.d/*.rules "$b/"
	printf 'allow udp 10.42.7.11 port 9000\nallow tcp 10.42.7.20 port 5432\n' >"$b/40-flow.rules"
	install -m 0644 "$BUILD/tests/stage_flow_v2.bpf.o" "$b/45-flow.bpf.o"
	install_ingress "$a" || return 1
	# the flows go through the plug-in stage; version 1 lets source port 0 through
	raw_delta rule 1 "${zero[@]}" || return 1
	sleep 0.2
	# two paced flows, ~1 ms apart, from inside the sandbox, until the last switch
	flows_start
	# every one a switch of generation; "install $b" and "new-stage" put version 2 of the
	# flow stage in, "install $a" version 1; the flow stage holds one rule, in its program,
	# so allow and revoke switch too; a reload of the profile in force would switch nothing,
	# so the profile gains a rule before it
	for step in "install $b" allow revoke reload "install $a" allow revoke new-stage; do
		case $step in
		install*) install_ingress "${step#install }" ;;
		allow | revoke) edit_step "$step" ;;
		reload) echo "allow tcp 10.42.7.30 port 5432" >>"$b/40-flow.rules" && edit_step reload ;;
		new-stage)
			install -m 0644 "$BUILD/tests/stage_flow_v2.bpf.o" "$a/45-flow.bpf.o" &&
				"$BIN" reload --name "$INSTANCE" >/dev/null
			;;
		esac || fail "$step failed" || return 1
		gens="$gens$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]' | cut -d: -f2)"
	done
	echo "    generations seen: $gens"
	[ "$gens" = 10101010 ] || fail "generation did not alternate: $gens"
	flows_end "during 8 switches" || return 1
	# version 2 of the stage judges now
	raw_delta malformed 1 "${zero[@]}" || fail "the new version of the flow stage is not in force"
}

# a sandbox created again is not covered until the pipeline is attached again
test_status_notices_lost_attachment() {
	local rc
	install_egress || return 1
	"$BIN" status --name "$INSTANCE" >/dev/null || fail "status not 0 while attached"
	ip -n "$SBX" link del sbx0
	ip link add sbx0 netns "$SBX" type veth peer name host0 netns "$CORP"
	ip -n "$SBX" addr add 10.42.0.2/24 dev sbx0
	ip -n "$SBX" link set sbx0 up
	ip -n "$SBX" route add default via 10.42.0.1
	for a in 10.42.0.1/24 10.42.0.53/24 10.42.0.99/24; do ip -n "$CORP" addr add "$a" dev host0; done
	ip -n "$CORP" link set host0 up
	"$BIN" status --name "$INSTANCE" | grep -q "LOST" || fail "status does not report the lost attachment"
	"$BIN" status --name "$INSTANCE" >/dev/null
	rc=$?
	[ $rc = 3 ] || fail "status exit $rc with a lost attachment, want 3"
	install_egress || return 1
	"$BIN" status --name "$INSTANCE" >/dev/null || fail "status not 0 after attaching again"
	sleep 1 # the new link needs ARP again
	expect_ok connect 10.42.7.11 8080 --timeout-ms 3000 || return 1
	expect_denied connect 10.42.7.12 8080
}

# an instance the build before the state layout installed: its runtime state was
# /run/ironclaw-pipe/NAME.{conf,rules,d}; reload, allow and uninstall take it over
test_earlier_build_state_reloaded_and_removed() {
	install_ingress || return 1
	"$BIN" allow --name "$INSTANCE" tcp 10.42.7.12 port 8080 >/dev/null || fail "allow" || return 1
	mv "$CONF_FILE" "$STATE_DIR/$INSTANCE.conf" && mv "$RULES_FILE" "$STATE_DIR/$INSTANCE.rules" &&
		mkdir "$STATE_DIR/$INSTANCE.d" && mv "$LIVE_RULES_FILE" "$STATE_DIR/$INSTANCE.d/" &&
		rm -rf "$INSTANCE_STATE" || fail "cannot lay out the earlier state" || return 1
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload of an earlier build's instance" || return 1
	[ -f "$CONF_FILE" ] && [ -f "$RULES_FILE" ] && grep -q "10.42.7.12" "$LIVE_RULES_FILE" ||
		fail "the earlier state was not moved into $INSTANCE_STATE" || return 1
	[ ! -e "$STATE_DIR/$INSTANCE.conf" ] && [ ! -e "$STATE_DIR/$INSTANCE.d" ] ||
		fail "the earlier files are still there" || return 1
	"$BIN" rules --name "$INSTANCE" | grep -q "allow tcp 10.42.7.12 port 8080" ||
		fail "the live edit did not survive the move" || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	# and one that is only uninstalled
	mv "$CONF_FILE" "$STATE_DIR/$INSTANCE.conf" && mv "$RULES_FILE" "$STATE_DIR/$INSTANCE.rules" &&
		rm -rf "$INSTANCE_STATE" || fail "cannot lay out the earlier state" || return 1
	"$BIN" uninstall --name "$INSTANCE" >/dev/null || fail "uninstall of an earlier build's instance" || return 1
	[ ! -e "$PIN_DIR" ] && [ ! -e "$INSTANCE_STATE" ] && [ ! -e "$STATE_DIR/$INSTANCE.conf" ] &&
		[ ! -e "$STATE_DIR/$INSTANCE.rules" ] || fail "uninstall left state: $(ls "$STATE_DIR" 2>&1)"
}

# the last commit before the state layout and the instance layer
PREVIOUS_BUILD=2f786d5

# the previous build itself installs; this one reloads, edits, blocks and uninstalls
test_previous_build_reloaded_and_removed() {
	local old=$WORK/previous prof=$WORK/prof-notools
	git cat-file -e "$PREVIOUS_BUILD^{commit}" 2>/dev/null ||
		fail "commit $PREVIOUS_BUILD is not in this clone: the test needs the history (no shallow clone)" || return 1
	mkdir -p "$old" "$prof" && git archive "$PREVIOUS_BUILD" | tar -x -C "$old" &&
		make -s -C "$old" -j2 build/ironclaw-pipe >"$WORK/previous.log" 2>&1 ||
		fail "cannot build $PREVIOUS_BUILD: $(tail -5 "$WORK/previous.log")" || return 1
	cp rules.d/*.rules "$prof/" && sed -i 's/ tool memscraper//' "$prof/30-internal.rules"
	"$old/build/ironclaw-pipe" install --profile "$prof" --tc-ingress "host0@$CORP" \
		--sandbox-netns "$SBX" --name "$INSTANCE" >/dev/null || fail "the previous build's install" || return 1
	defer rm -f "/run/lock/ironclaw-pipe.$INSTANCE.lock"
	[ -f "$STATE_DIR/$INSTANCE.conf" ] || fail "the previous build kept no $STATE_DIR/$INSTANCE.conf" || return 1
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload" || return 1
	"$BIN" allow --name "$INSTANCE" tcp 10.42.7.12 port 8080 >/dev/null || fail "allow" || return 1
	[ -f "$CONF_FILE" ] && [ ! -e "$STATE_DIR/$INSTANCE.conf" ] || fail "state not moved" || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	expect_denied connect 10.42.7.11 8081 || return 1
	"$BIN" block --name "$INSTANCE" >/dev/null || fail "block" || return 1
	expect_denied connect 10.42.7.11 8080 || return 1
	"$BIN" uninstall --name "$INSTANCE" >/dev/null || fail "uninstall" || return 1
	[ ! -e "$PIN_DIR" ] && [ ! -e "$INSTANCE_STATE" ] || fail "uninstall left pins or state"
	[ ! -e "/run/lock/ironclaw-pipe.$INSTANCE.lock" ] || fail "the previous build's lock file is left"
}
