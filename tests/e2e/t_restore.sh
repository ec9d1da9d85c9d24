# t_restore.sh: enabled instances: enable writes the running one to /etc, restore installs it
# again (after a simulated reboot, over a veth made again), and fails closed.

area restore "flow_profiles" "" \
	test_enable_and_disable test_restore_fails_closed test_restore_reattaches_a_new_veth \
	test_restore_after_reboot

# the sandbox's veth made again, as a sandbox that creates its own at start does
veth_again() {
	ip link add sbx0 netns "$SBX" type veth peer name host0 netns "$CORP" || return 1
	ip -n "$SBX" addr add 10.42.0.2/24 dev sbx0
	ip -n "$SBX" addr add fd00:42::2/64 dev sbx0 nodad
	ip -n "$SBX" link set sbx0 up
	ip -n "$SBX" route add default via 10.42.0.1
	for a in 10.42.0.1/24 10.42.0.53/24 10.42.0.99/24; do
		ip -n "$CORP" addr add "$a" dev host0
	done
	ip -n "$CORP" addr add fd00:42::1/64 dev host0 nodad
	ip -n "$CORP" link set host0 up
}

# the scenario's flows, with the persisted live edit for 10.42.7.12
restored_flows() {
	each_row expect <<-'EOF'
		ok connect 10.42.7.11 8080 --timeout-ms 3000
		ok connect 10.42.7.12 8080 --timeout-ms 3000
		denied connect 10.42.7.11 8081
		denied udp 10.42.0.99 53
	EOF
}

test_enable_and_disable() {
	local out rc pid
	out=$("$BIN" enable --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && [ "$out" = "no instance '$INSTANCE' installed" ] ||
		fail "enable before install: $out" || return 1
	install_ingress || return 1
	# --persist on an instance that is not enabled: refused before anything changes
	out=$("$BIN" allow --name "$INSTANCE" --persist tcp 10.42.7.12 port 8080 2>&1)
	[ $? = 1 ] && [ "$out" = "--persist: instance '$INSTANCE' is not enabled ('ironclaw-pipe enable --name $INSTANCE' first)" ] ||
		fail "allow --persist before enable: $out" || return 1
	! grep -qs 10.42.7.12 "$LIVE_RULES_FILE" || fail "the refused allow changed the drop-in" || return 1
	"$BIN" allow --name "$INSTANCE" tcp 10.42.7.20 port 5432 >/dev/null || fail "allow" || return 1
	out=$("$BIN" enable --name "$INSTANCE") || fail "enable failed" || return 1
	[ "${out%%$'\n'*}" = "enabled instance '$INSTANCE': $ENABLED_FILE" ] || fail "enable said: $out" || return 1
	# the file: the profile, the point, the sandbox; the live edits beside it; root's alone
	out=$(grep -v '^#' "$ENABLED_FILE")
	[ "$out" = "$(printf 'profile=%s\ntc-ingress=host0@%s\nsandbox-netns=%s\nsandbox-cgroup=%s\naudit=no' \
		"$PWD/rules.d" "$CORP" "$SBX" "$CG")" ] || fail "the enabled file: $out" || return 1
	[ "$(stat -c '%U %a' "$ENABLED_FILE")" = "root 600" ] || fail "mode: $(stat -c '%U %a' "$ENABLED_FILE")" || return 1
	grep -q "tcp 10.42.7.20 port 5432" "$ENABLED_LIVE" || fail "the live edits were not kept" || return 1
	# --persist keeps allow and revoke
	"$BIN" allow --name "$INSTANCE" --persist tcp 10.42.7.12 port 8080 >/dev/null &&
		"$BIN" revoke --name "$INSTANCE" --persist tcp 10.42.7.20 port 5432 >/dev/null ||
		fail "allow/revoke --persist failed" || return 1
	grep -q "tcp 10.42.7.12 port 8080" "$ENABLED_LIVE" && ! grep -q 5432 "$ENABLED_LIVE" ||
		fail "kept live edits: $(cat "$ENABLED_LIVE")" || return 1
	"$BIN" disable --name "$INSTANCE" >/dev/null || fail "disable failed" || return 1
	[ ! -e "$ENABLED_FILE" ] && [ ! -e "$ENABLED_LIVE" ] || fail "disable left its files" || return 1
	out=$("$BIN" disable --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && [ "$out" = "instance '$INSTANCE' is not enabled (no $ENABLED_FILE)" ] ||
		fail "disable twice: $out" || return 1
	"$BIN" status --name "$INSTANCE" >/dev/null || fail "disable changed what runs" || return 1
	# a namespace named by a process does not outlive a reboot
	ip netns exec "$SBX" sleep 30 &
	pid=$!
	defer kill "$pid"
	sleep 0.2
	"$BIN" uninstall --name "$INSTANCE" >/dev/null
	"$BIN" install --profile rules.d --tc-ingress "host0@$CORP" --sandbox-netns "pid:$pid" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" >/dev/null || fail "install by pid:" || return 1
	out=$("$BIN" enable --name "$INSTANCE" 2>&1)
	rc=$?
	[ $rc = 1 ] && [ "$out" = "--sandbox-netns pid:$pid names a process's namespace, which does not outlive a reboot: install it with a name in /run/netns or a bind mount, then enable it" ] ||
		fail "enable with pid:: exit $rc: $out" || return 1
	[ ! -e "$ENABLED_FILE" ] || fail "a refused enable wrote its file"
}

test_restore_fails_closed() {
	local p=$WORK/prof-restore out rc
	mkdir -p "$p" && cp rules.d/*.rules "$p/"
	install_ingress "$p" || return 1
	"$BIN" enable --name "$INSTANCE" >/dev/null || fail "enable failed" || return 1
	# the profile breaks: restore says where, and blocks what it attached
	echo "allow tcp 10.42.7.13 prot 80" >>"$p/30-internal.rules"
	out=$("$BIN" restore "$INSTANCE" 2>&1)
	rc=$?
	[ $rc = 1 ] && echo "$out" | grep -q "^$p/30-internal.rules:4: " &&
		echo "$out" | grep -qx "instance '$INSTANCE' is blocked: every packet at 1 attach point is dropped until a restore or install succeeds" ||
		fail "restore of a broken profile: exit $rc: $out" || return 1
	expect denied connect 10.42.7.11 8080 || return 1
	"$BIN" status --name "$INSTANCE" | grep -q "BLOCKED" ||
		fail "status does not say blocked: $("$BIN" status --name "$INSTANCE" | head -3)" || return 1
	# reload keeps the block; the profile fixed, restore ends it
	sed -i '$d' "$p/30-internal.rules"
	# (the block drops ARP: an entry failed meanwhile would say EHOSTUNREACH, not time out)
	"$BIN" reload --name "$INSTANCE" >/dev/null && ip -n "$SBX" neigh flush dev sbx0 &&
		expect denied connect 10.42.7.11 8080 ||
		fail "reload ended the block" || return 1
	out=$("$BIN" restore "$INSTANCE") || fail "restore of the fixed profile: $out" || return 1
	ip -n "$SBX" neigh flush dev sbx0 # the block dropped ARP too: the gateway's entry failed
	expect ok connect 10.42.7.11 8080 --timeout-ms 3000 || return 1
	# nothing can be attached: an error, and nothing is left
	"$BIN" uninstall --name "$INSTANCE" >/dev/null
	sed -i "s/^tc-ingress=.*/tc-ingress=nosuch0@$CORP/" "$ENABLED_FILE"
	out=$("$BIN" restore "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -qx "instance '$INSTANCE': nothing could be attached to block it; the sandbox's units must not start" ||
		fail "restore with no interface: $out" || return 1
	[ ! -e "$PIN_DIR" ] && [ ! -e "$INSTANCE_STATE" ] || fail "a failed restore left state" || return 1
	# a bad file: its line named, nothing installed
	each_row bad_enabled_file <<-EOF
		"profile=rules.d" "profile: 'rules.d' is not an absolute path"
		"tc-ingress=host0@pid:1" "tc-ingress: 'pid:1' names a process's namespace, which does not outlive a reboot: name it in /run/netns or bind-mount it"
		"sandbox-netns=/proc/1/ns/net" "sandbox-netns: '/proc/1/ns/net' names a process's namespace"
		"source=10.42.0.0/24" "source: '10.42.0.0/24' is not one address"
		"audit=maybe" "audit: 'maybe' is not yes or no"
		"colour=blue" "unknown key 'colour'"
		"just words" "expected key=value"
	EOF
}

# bad_enabled_file LINE MESSAGE: the line added to a good file is refused at its line number
bad_enabled_file() {
	local out
	printf 'profile=%s\ntc-ingress=host0@%s\nsource=10.42.0.2\n%s\n' "$PWD/rules.d" "$CORP" "$1" >"$ENABLED_FILE"
	out=$("$BIN" restore "$INSTANCE" 2>&1)
	[ $? = 1 ] && [ "${out#"$ENABLED_FILE:4: $2"}" != "$out" ] ||
		fail "'$1': $out" || return 1
	[ ! -e "$PIN_DIR" ] || fail "'$1': a refused file installed something"
}

# a sandbox whose veth was deleted and made again: status says the attachment is lost, and
# restore makes it again
test_restore_reattaches_a_new_veth() {
	local rc
	install_ingress || return 1
	"$BIN" allow --name "$INSTANCE" tcp 10.42.7.12 port 8080 >/dev/null || fail "allow" || return 1
	"$BIN" enable --name "$INSTANCE" >/dev/null || fail "enable failed" || return 1
	ip -n "$CORP" link del host0 || fail "cannot delete the veth" || return 1
	"$BIN" status --name "$INSTANCE" >/dev/null 2>&1
	rc=$?
	[ $rc = 3 ] || fail "status with the veth gone: exit $rc, want 3" || return 1
	veth_again || fail "cannot make the veth again" || return 1
	"$BIN" restore "$INSTANCE" >/dev/null || fail "restore failed" || return 1
	"$BIN" status --name "$INSTANCE" >/dev/null || fail "status after restore: $("$BIN" status --name "$INSTANCE" 2>&1)" || return 1
	restored_flows
}

# a reboot: the pins, /run, the namespaces and the cgroup go; they are made again, and restore
# brings the policy back with its kept live edit (last in the area: the servers are the test's)
test_restore_after_reboot() {
	local out pid
	install_ingress || return 1
	"$BIN" enable --name "$INSTANCE" >/dev/null &&
		"$BIN" allow --name "$INSTANCE" --persist tcp 10.42.7.12 port 8080 >/dev/null ||
		fail "enable and allow --persist failed" || return 1
	rm -rf "$PIN_DIR" "$INSTANCE_STATE"
	net_down
	cgroups_down
	net_up && net_services "$LOGS" && fixture_cgroups || fail "cannot make the namespaces again" || return 1
	"$BIN" status --name "$INSTANCE" >/dev/null 2>&1 && fail "an instance survived the reboot" && return 1
	out=$("$BIN" restore "$INSTANCE" 2>&1) || fail "restore failed: $out" || return 1
	echo "$out" | grep -qx "restored instance '$INSTANCE': 6 rules in 3 stages" || fail "restore said: $out" || return 1
	restored_flows || return 1
	# restore started a collector: the denial is in the journal, which any number of readers read
	pid=$(echo "$out" | sed -n "s/^collecting the events of instance '$INSTANCE' (pid \([0-9]*\))$/\1/p")
	[ -n "$pid" ] && tr "\\0" " " </proc/"$pid"/cmdline | grep -q "collect --name $INSTANCE --until-uninstalled" ||
		fail "restore started no collector: $out" || return 1
	for _ in $(seq 30); do
		"$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep -q '"destination":"10.42.0.99:53"' && break
		sleep 0.1
	done
	for _ in 1 2; do
		"$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep -q '"destination":"10.42.0.99:53"' ||
			fail "the restored instance's denial is not in the journal: $("$BIN" log --name "$INSTANCE" 2>&1)" || return 1
	done
	# a second restore leaves the collector alone; --no-collect starts none
	out=$("$BIN" restore "$INSTANCE" 2>&1) || fail "restore again failed: $out" || return 1
	echo "$out" | grep -qx "the events of instance '$INSTANCE' are read by pid $pid already" ||
		fail "restore again said: $out" || return 1
	# the collector ends with its instance
	"$BIN" uninstall --name "$INSTANCE" >/dev/null || fail "uninstall" || return 1
	for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$pid" 2>/dev/null || fail "the collector outlived its instance" || return 1
	out=$("$BIN" restore --no-collect "$INSTANCE" 2>&1) || fail "restore --no-collect failed: $out" || return 1
	! echo "$out" | grep -q collect || fail "restore --no-collect said: $out" || return 1
	! pgrep -f -- "collect --name $INSTANCE --until-uninstalled" >/dev/null || fail "restore --no-collect started a collector"
}
