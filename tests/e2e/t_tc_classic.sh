# t_tc_classic.sh: tc points attached as classic tc filters (a clsact qdisc, a direct-action bpf
# filter), as on a kernel without tcx (before 6.6), here forced with IRONCLAW_TC_ATTACH=classic:
# switches under paced flows lose and leak nothing, other filters on the clsact stay, a deleted
# filter is noticed and restore attaches it again. tests/run-all.sh also runs the scenario,
# frames, lifecycle and live_edits areas with it forced.

area tc_classic "flow_profiles" "" \
	test_classic_is_what_status_shows test_classic_switch_under_flows \
	test_classic_leaves_other_filters test_classic_deleted_filter_noticed_and_restored \
	test_tc_attach_bad_value

# tc ... on the host side of the sandbox's veth
ctc() { ip netns exec "$CORP" tc "$@"; }

# a foreign filter (classic BPF "ret 0": matches nothing, so every packet goes on) at priority 100
foreign_filter() { ctc filter add dev host0 ingress prio 100 protocol all bpf bytecode '1,6 0 0 0,'; }
has_foreign_filter() { ctc filter show dev host0 ingress | grep -q "pref 100 bpf .*bytecode"; }
has_clsact() { ctc qdisc show dev host0 | grep -q clsact; }
# our dispatcher, first: priority 1, direct-action
has_our_filter() { ctc filter show dev host0 ingress | grep -q "pref 1 bpf .*dispatch_tc.* direct-action"; }

test_classic_is_what_status_shows() {
	local out
	export IRONCLAW_TC_ATTACH=classic
	install_ingress || return 1
	out=$("$BIN" status --name "$INSTANCE") || fail "status not 0: $out" || return 1
	echo "$out" | grep -q "tc_ingress    host0 in netns $CORP: attached (ifindex [0-9]*, tc filter (clsact, direct-action), handle 0x[0-9a-f]*, priority 1, program id [0-9]*)" ||
		fail "status does not show the tc filter: $out" || return 1
	"$BIN" status --name "$INSTANCE" --json | grep -q '"hook":"tc_ingress","kind":"tc filter"' ||
		fail "status --json has no kind tc filter" || return 1
	has_our_filter || fail "no dispatch_tc filter at priority 1: $(ctc filter show dev host0 ingress)" || return 1
	ctc filter show dev host0 egress | grep -q "pref 1 bpf .*learn_tc.* direct-action" ||
		fail "no learn_tc filter at tc egress" || return 1
	! bpftool link show | grep -q "tcx" || fail "a tcx link was made: $(bpftool link show | grep -A1 tcx)" || return 1
	each_row expect <<-'EOF2'
		ok connect 10.42.7.11 8080
		denied connect 10.42.7.11 8081
		denied udp 10.42.0.99 53
	EOF2
	# the same instance, without the variable, on a kernel with tcx: its filters stay filters
	unset IRONCLAW_TC_ATTACH
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload without the variable" || return 1
	"$BIN" status --name "$INSTANCE" --json | grep -q '"hook":"tc_ingress","kind":"tc filter"' ||
		fail "a reload changed the kind of attachment" || return 1
	"$BIN" uninstall --name "$INSTANCE" >/dev/null || fail "uninstall" || return 1
	! has_clsact || fail "uninstall left the clsact qdisc it made: $(ctc qdisc show dev host0)"
}

# every step a switch of generation while two paced flows run: the filter's program is replaced
# at its handle and priority, in one step
test_classic_switch_under_flows() {
	local step
	export IRONCLAW_TC_ATTACH=classic
	install_ingress "$FLOW_PROFILE" || return 1
	sleep 0.2
	flows_start
	for step in allow revoke reload "install $FLOW_PROFILE_NO_TOOLS" allow reload "install $FLOW_PROFILE" revoke; do
		case $step in
		install*) install_ingress "${step#install }" ;;
		*) edit_step "$step" || fail "$step failed" ;;
		esac
		has_our_filter || fail "after $step: our filter is not at priority 1"
	done
	[ "$(ctc filter show dev host0 ingress | grep -c "dispatch_tc")" = 1 ] ||
		fail "more than one filter of ours: $(ctc filter show dev host0 ingress)"
	flows_end "over 8 switches on classic tc"
}

test_classic_leaves_other_filters() {
	export IRONCLAW_TC_ATTACH=classic
	defer ip netns exec "$CORP" tc qdisc del dev host0 clsact
	# a clsact and a filter that were there before: ours goes first, theirs stays
	ctc qdisc add dev host0 clsact && foreign_filter || fail "cannot add the foreign filter" || return 1
	install_ingress || return 1
	has_our_filter && has_foreign_filter ||
		fail "after install: $(ctc filter show dev host0 ingress)" || return 1
	each_row expect <<-'EOF2'
		ok connect 10.42.7.11 8080
		denied connect 10.42.7.11 8081
	EOF2
	"$BIN" uninstall --name "$INSTANCE" >/dev/null || fail "uninstall" || return 1
	! has_our_filter && has_foreign_filter && has_clsact ||
		fail "after uninstall: $(ctc qdisc show dev host0) / $(ctc filter show dev host0 ingress)" || return 1
	# a clsact we made, with a filter added since: the qdisc and that filter stay
	ctc qdisc del dev host0 clsact
	install_ingress || return 1
	foreign_filter || fail "cannot add the foreign filter" || return 1
	"$BIN" uninstall --name "$INSTANCE" >/dev/null || fail "uninstall" || return 1
	! has_our_filter && has_foreign_filter && has_clsact ||
		fail "after uninstall: $(ctc qdisc show dev host0) / $(ctc filter show dev host0 ingress)"
}

test_classic_deleted_filter_noticed_and_restored() {
	local out rc
	export IRONCLAW_TC_ATTACH=classic
	install_ingress || return 1
	"$BIN" enable --name "$INSTANCE" >/dev/null || fail "enable" || return 1
	ctc filter del dev host0 ingress pref 1 || fail "cannot delete our filter" || return 1
	out=$("$BIN" status --name "$INSTANCE")
	rc=$?
	[ $rc = 3 ] && echo "$out" | grep -q "DEGRADED" &&
		echo "$out" | grep -q "tc_ingress    host0 in netns $CORP: LOST: its tc filter is gone" ||
		fail "status after the filter was deleted: exit $rc: $out" || return 1
	# the egress filter (learning) is still there: only the lost one is reported
	[ "$(echo "$out" | grep -c LOST)" = 1 ] || fail "more than one attachment reported lost: $out" || return 1
	expect ok connect 10.42.7.11 8081 --timeout-ms 3000 || return 1 # unfiltered: the gap status reports
	out=$("$BIN" restore "$INSTANCE" 2>&1) || fail "restore: $out" || return 1
	"$BIN" status --name "$INSTANCE" >/dev/null || fail "status after restore: exit $?" || return 1
	has_our_filter || fail "restore did not attach the filter again" || return 1
	[ "$(ctc filter show dev host0 ingress | grep -c dispatch_tc)" = 1 ] || fail "two filters of ours" || return 1
	each_row expect <<-'EOF2'
		ok connect 10.42.7.11 8080
		denied connect 10.42.7.11 8081
	EOF2
	# the clsact deleted whole (both filters): both lost, both attached again
	ctc qdisc del dev host0 clsact
	out=$("$BIN" status --name "$INSTANCE")
	[ $? = 3 ] && [ "$(echo "$out" | grep -c LOST)" = 2 ] || fail "status after the clsact went: $out" || return 1
	"$BIN" restore "$INSTANCE" >/dev/null 2>&1 || fail "restore after the clsact went" || return 1
	"$BIN" status --name "$INSTANCE" >/dev/null || fail "status after the second restore: exit $?" || return 1
	expect denied connect 10.42.7.11 8081
}

test_tc_attach_bad_value() {
	local out rc
	out=$(IRONCLAW_TC_ATTACH=fast "$BIN" install --profile rules.d --tc-ingress "host0@$CORP" \
		--sandbox-netns "$SBX" --sandbox-cgroup "$CG" --name "$INSTANCE" 2>&1)
	rc=$?
	[ $rc = 1 ] && [ "$out" = "ironclaw-pipe install: IRONCLAW_TC_ATTACH=fast: give tcx or classic (or leave it unset)" ] ||
		fail "a bad IRONCLAW_TC_ATTACH: exit $rc: $out" || return 1
	[ ! -e "$PIN_DIR" ] || fail "the refused install left pins"
}
