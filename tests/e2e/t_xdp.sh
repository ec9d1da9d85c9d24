# t_xdp.sh: XDP on the host-side veth: the scenario (the tool rule deferred to tc ingress), what
# is refused and leaves nothing, explain and the log at XDP, audit, XDP alone; and switches under
# paced flows that never detach.

area xdp "flow_profiles" "xdp" \
	test_scenario_at_xdp test_xdp_switches_during_flow

# XDP with tc ingress behind it on the same interface, as install requires
install_xdp() {
	"$BIN" install --profile "$1" --xdp "host0@$CORP" --tc-ingress "host0@$CORP" \
		--sandbox-netns "$SBX" --name "$INSTANCE" "${@:2}" >/dev/null || fail "install at XDP failed"
}

# XDP on the host-side veth: the scenario's cases (the tool rule decided at tc ingress),
# the way it is attached, and nothing left after uninstall
test_scenario_at_xdp() {
	local p=$WORK/prof-xdp out
	mkdir -p "$p"
	cp rules.d/*.rules "$p/"
	out=$("$BIN" install --profile "$p" --xdp "host0@$CORP" --sandbox-netns "$SBX" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "XDP sees no socket, so no tool, and the profile has rules for tools: add --tc-ingress host0@$CORP" ||
		fail "XDP alone with a tool rule: $out" || return 1
	[ ! -e "$PIN_DIR" ] || fail "a refused install left pins" || return 1
	[ -z "$(lock_files "$INSTANCE")" ] || fail "a refused install left its lock file" || return 1
	ip -n "$CORP" link show host0 | grep -q ' xdp' && fail "a refused install left XDP attached" && return 1
	# someone else's XDP program on the interface: refused, named, nothing left
	ip -n "$CORP" link set dev host0 xdpdrv obj "$BUILD/progs/xdp_entry.bpf.o" sec xdp ||
		fail "cannot attach a foreign XDP program" || return 1
	out=$("$BIN" install --profile rules.d --xdp "host0@$CORP" --tc-ingress "host0@$CORP" \
		--sandbox-netns "$SBX" --sandbox-cgroup "$CG" --name "$INSTANCE" 2>&1)
	local rc=$?
	ip -n "$CORP" link set dev host0 xdpdrv off
	[ $rc = 1 ] && echo "$out" | grep -q "cannot attach at XDP of 'host0': another XDP program is attached there" ||
		fail "XDP taken: $out" || return 1
	[ ! -e "$PIN_DIR" ] || fail "a failed XDP attach left pins" || return 1
	! "$BIN" status --name "$INSTANCE" >/dev/null 2>&1 || fail "a failed XDP attach left an instance" || return 1
	install_xdp "$p" --sandbox-cgroup "$CG" || return 1
	"$BIN" status --name "$INSTANCE" | grep -Eq "^  xdp +host0 in netns $CORP: attached \(ifindex [0-9]+, libxdp (single program|dispatcher)" ||
		fail "status: $("$BIN" status --name "$INSTANCE")" || return 1
	"$BIN" log --name "$INSTANCE" >/dev/null 2>&1
	scenario_cases xdp "$p" || return 1
	[ "$(count tool_deferred)" -ge 1 ] || fail "the tool rule was not deferred to tc ingress" || return 1
	explain_is 0 memscraper tcp 10.42.7.11 8080 || return 1
	grep -q "^xdp         allow       tool_deferred   internal   $p/30-internal.rules:3: allow tcp 10.42.7.11 port 8080 tool memscraper$" "$WORK/explain.out" &&
		grep -q "^tc          allow       rule            internal   $p/30-internal.rules:3:" "$WORK/explain.out" ||
		fail "explain at XDP: $(cat "$WORK/explain.out")" || return 1
	explain_is 1 memscraper tcp 10.42.7.12 8080 || return 1
	grep -q "^xdp         deny        no_rule         internal   -$" "$WORK/explain.out" ||
		fail "explain at XDP: $(cat "$WORK/explain.out")" || return 1
	"$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep -q '"hook":"xdp".*"destination":"10.42.7.12:8080".*"reason":"no_rule"' ||
		fail "the denial was not made at XDP: $("$BIN" log --name "$INSTANCE" 2>&1 | tail -3)" || return 1
	# audit for one tool: XDP, which knows no tool, leaves the denial to tc ingress
	printf 'audit tool other\n' >"$p/05-audit.rules"
	install_xdp "$p" --sandbox-cgroup "$CG" 2>/dev/null || return 1
	out=$(tool_out other connect 10.42.7.12 8080 --timeout-ms 2000)
	[ "${out%% *}" = ok ] || fail "audit tool at XDP: $out" || return 1
	expect_denied connect 10.42.7.12 8080 || return 1
	rm "$p/05-audit.rules"
	# without tool rules, XDP alone is refused too: it does not see a VLAN tag carried beside
	# the frame, which tc ingress denies
	echo "allow tcp 10.42.7.11 port 8080" >"$p/30-internal.rules"
	"$BIN" uninstall --name "$INSTANCE" >/dev/null
	ip -n "$CORP" link show host0 | grep -q ' xdp' && fail "uninstall left XDP attached" && return 1
	out=$("$BIN" install --profile "$p" --xdp "host0@$CORP" --sandbox-netns "$SBX" \
		--name "$INSTANCE" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "^--xdp host0: XDP does not see a VLAN tag that the link carries beside the frame: add --tc-ingress host0@$CORP, which denies tagged frames (reason vlan)$" ||
		fail "XDP alone: $out" || return 1
	[ ! -e "$PIN_DIR" ] || fail "a refused install left pins" || return 1
	ip -n "$CORP" link show host0 | grep -q ' xdp' && fail "a refused install left XDP attached" && return 1
	install_xdp "$p" || return 1
	each_row expect <<-'EOF' || return 1
		ok connect 10.42.7.11 8080 --timeout-ms 3000
		denied connect 10.42.7.11 8081
		denied udp 10.42.0.99 53
		ok udp 10.42.0.53 53
	EOF
	raw_delta spoofed_source 3 --src 10.42.0.77 --dst 10.42.7.11 --proto tcp --dport 8080 \
		--count 3 --qdisc-bypass || return 1
	# the sandbox tags its frames (at its own tc egress, as a VLAN device would): veth carries
	# the tag beside the frame, where XDP does not look (it allows by the rule) and tc ingress
	# does (reason vlan)
	tc -n "$SBX" qdisc add dev sbx0 clsact &&
		tc -n "$SBX" filter add dev sbx0 egress bpf da obj "$BUILD/tests/vlan_tag.bpf.o" sec tc ||
		fail "cannot attach the VLAN tagger in the sandbox" || return 1
	defer tc -n "$SBX" qdisc del dev sbx0 clsact
	local before_vlan before_rule
	before_vlan=$(count vlan) before_rule=$(count rule)
	raw --src 10.42.0.2 --dst 10.42.7.11 --proto tcp --dport 8080 --count 3 ||
		fail "rawframe through the tagger failed" || return 1
	sleep 0.2
	[ $(($(count vlan) - ${before_vlan:-0})) = 3 ] && [ $(($(count rule) - before_rule)) = 3 ] ||
		fail "tagged frames: vlan ${before_vlan:-0} -> $(count vlan), rule $before_rule -> $(count rule), want +3 each" || return 1
	"$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep -q '"hook":"tc".*"reason":"vlan"' ||
		fail "the tagged frames were not denied at tc ingress: $("$BIN" log --name "$INSTANCE" 2>&1 | tail -3)" || return 1
	# libxdp's directory in bpffs goes with the last XDP program (unless it was there before)
	"$BIN" uninstall --name "$INSTANCE" >/dev/null
	[ -n "$XDP_DIR_BEFORE" ] || [ ! -e "$XDP_LIB_DIR" ] || fail "$XDP_LIB_DIR left behind"
}

# reinstall, live edits and reload at XDP never detach: paced flows lose and leak nothing
test_xdp_switches_during_flow() {
	local step
	install_xdp "$FLOW_PROFILE_NO_TOOLS" || return 1
	flows_start
	for step in install allow revoke reload; do
		case $step in
		install) install_xdp "$FLOW_PROFILE_NO_TOOLS" ;;
		allow | revoke | reload) edit_step "$step" ;;
		esac || fail "$step failed" || return 1
	done
	flows_end "during 4 switches at XDP"
}
