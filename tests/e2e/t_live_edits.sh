# t_live_edits.sh: allow and revoke change the running policy through the live drop-in
# (LIVE_RULES_FILE); reload keeps them, refused edits change nothing, a block stays.

area live_edits "flow_profiles" "" \
	test_live_edits test_live_edit_in_place test_live_edit_switch test_reload_unchanged

# rule_packets FILE-SUFFIX TEXT: what `rules --json` says that rule let through
rule_packets() {
	"$BIN" rules --name "$INSTANCE" --json | grep -o "$1\",\"line\":[0-9]*,\"text\":\"$2\",\"packets\":[0-9]*" |
		grep -o '[0-9]*$'
}

test_live_edits() {
	local out gen live=$LIVE_RULES_FILE before after
	install_ingress || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	before=$(rule_packets 30-internal.rules "allow tcp 10.42.7.11 port 8080 tool memscraper")
	[ "${before:-0}" -ge 3 ] || fail "the 8080 rule counted ${before:-nothing}" || return 1
	expect_denied connect 10.42.7.12 8080 || return 1
	out=$("$BIN" allow --name "$INSTANCE" tcp 10.42.7.12 port 8080 2>&1) || fail "allow: $out" || return 1
	# a switch keeps what the rules that stay counted
	after=$(rule_packets 30-internal.rules "allow tcp 10.42.7.11 port 8080 tool memscraper")
	[ "${after:-0}" -ge "$before" ] || fail "the 8080 rule went from $before to ${after:-nothing} packets across allow" || return 1
	expect_ok connect 10.42.7.12 8080 || return 1
	"$BIN" rules --name "$INSTANCE" | grep -q "$live:1: allow tcp 10.42.7.12 port 8080" ||
		fail "rules does not show the live rule" || return 1
	gen=$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]')
	out=$("$BIN" allow --name "$INSTANCE" tcp 10.42.7.12 port 70000 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "command line:1: port '70000' out of range" ||
		fail "bad allow: $out" || return 1
	out=$("$BIN" allow --name "$INSTANCE" tcp 10.42.7.12 port 8080 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "$live:2: duplicate of $live:1" ||
		fail "duplicate allow: $out" || return 1
	[ "$(wc -l <"$live")" = 1 ] || fail "a refused allow changed the drop-in" || return 1
	[ "$("$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]')" = "$gen" ] ||
		fail "a refused allow switched the policy" || return 1
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload" || return 1
	expect_ok connect 10.42.7.12 8080 || fail "reload lost the live rule" || return 1
	out=$("$BIN" revoke --name "$INSTANCE" tcp 10.42.7.11 port 8080 tool memscraper 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "was not added with allow" || fail "revoke of a profile rule: $out" || return 1
	"$BIN" revoke --name "$INSTANCE" tcp 10.42.7.12 port 8080 >/dev/null || fail "revoke" || return 1
	expect_denied connect 10.42.7.12 8080 || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	# a live edit of a blocked instance leaves it blocked; revoke knows the rule however spelled
	"$BIN" block --name "$INSTANCE" >/dev/null
	"$BIN" allow --name "$INSTANCE" tcp 10.42.7.12 port 8081 >/dev/null || fail "allow while blocked" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q BLOCKED || fail "allow lifted the block" || return 1
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload while blocked" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q BLOCKED || fail "reload lifted the block" || return 1
	"$BIN" revoke --name "$INSTANCE" tcp 10.42.7.12/32 port 8081 >/dev/null ||
		fail "revoke of 10.42.7.12/32 did not find 10.42.7.12" || return 1
	[ ! -s "$live" ] || fail "the drop-in still holds: $(cat "$live")" || return 1
	"$BIN" uninstall --name "$INSTANCE" >/dev/null
	[ ! -e "$DROPIN_DIR" ] || fail "uninstall left the live drop-in"
}

# a profile whose internal stage holds more than 16 entries (the flow rule, the 8080 rule and
# 20 more): its rules are in its hash map, not its program, so an exact allow or revoke of an
# internal port goes into the generation in force
INPLACE_PROFILE=$WORK/prof-inplace
INSTANCE_PROFILE_FILE=$INPLACE_PROFILE/45-more.rules
inplace_profile() {
	local i
	mkdir -p "$INPLACE_PROFILE"
	cp "$FLOW_PROFILE"/*.rules "$INPLACE_PROFILE/"
	for i in $(seq 20); do echo "allow udp 10.42.9.$i port 9100"; done >"$INPLACE_PROFILE/45-more.rules"
}

live_gen() { "$BIN" status --name "$INSTANCE" --json | grep -o '"generation":[01]'; }
frames_to() { grep -c "udp from" "$LOGS/$1"; }

# allow lets the new destination through at once, and revoke stops the next packet of a
# destination in use, with no switch: the generation stays, the new rule counts its packets
test_live_edit_in_place() {
	local out gen seen held n
	inplace_profile
	install_ingress "$INPLACE_PROFILE" || return 1
	gen=$(live_gen)
	# 10.42.7.12:9000 (flow-denied.log's server): no rule yet
	seen=$(frames_to flow-denied.log)
	raw_delta no_rule 3 --src 10.42.0.2 --dst 10.42.7.12 --proto udp --dport 9000 --count 3 || return 1
	[ "$(frames_to flow-denied.log)" = "$seen" ] || fail "frames arrived before the allow" || return 1
	out=$("$BIN" allow --name "$INSTANCE" udp 10.42.7.12 port 9000 2>&1) || fail "allow: $out" || return 1
	[ "$(live_gen)" = "$gen" ] || fail "an exact allow switched: $gen -> $(live_gen)" || return 1
	raw --src 10.42.0.2 --dst 10.42.7.12 --proto udp --dport 9000 --count 5 || fail "rawframe" || return 1
	for _ in $(seq 50); do [ "$(frames_to flow-denied.log)" -ge $((seen + 5)) ] && break; sleep 0.05; done
	[ "$(frames_to flow-denied.log)" = $((seen + 5)) ] ||
		fail "after allow: $(($(frames_to flow-denied.log) - seen)) of 5 frames arrived" || return 1
	[ "$(rule_packets 90-live.rules "allow udp 10.42.7.12 port 9000")" = 5 ] ||
		fail "the live rule counted: $("$BIN" rules --name "$INSTANCE" | grep 10.42.7.12)" || return 1
	# the same allow again: a duplicate, nothing changed
	out=$("$BIN" allow --name "$INSTANCE" udp 10.42.7.12 port 9000 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "$LIVE_RULES_FILE:2: duplicate of $LIVE_RULES_FILE:1" ||
		fail "duplicate allow: $out" || return 1
	[ "$(wc -l <"$LIVE_RULES_FILE")" = 1 ] || fail "a refused allow changed the drop-in" || return 1
	# the UDP destination in use: its next frames are denied, no_rule
	seen=$(frames_to flow-denied.log)
	"$BIN" revoke --name "$INSTANCE" udp 10.42.7.12 port 9000 >/dev/null || fail "revoke udp" || return 1
	raw_delta no_rule 4 --src 10.42.0.2 --dst 10.42.7.12 --proto udp --dport 9000 --count 4 || return 1
	[ "$(frames_to flow-denied.log)" = "$seen" ] || fail "frames arrived after revoke" || return 1
	# a TCP connection in use: allowed in place, then revoked while it sends
	"$BIN" allow --name "$INSTANCE" tcp 10.42.7.12 port 8080 >/dev/null || fail "allow tcp" || return 1
	[ "$(live_gen)" = "$gen" ] || fail "the second exact allow switched" || return 1
	probe connect 10.42.7.12 8080 --post held-open --trickle-ms 3000 --timeout-ms 5000 >"$WORK/held" &
	held=$!
	defer "kill $held 2>/dev/null"
	for _ in $(seq 100); do
		n=$(rule_packets 90-live.rules "allow tcp 10.42.7.12 port 8080")
		[ "${n:-0}" -ge 3 ] && break
		sleep 0.05
	done
	[ "${n:-0}" -ge 3 ] || fail "the connection was not made: ${n:-0} packets" || return 1
	n=$(count no_rule)
	out=$("$BIN" revoke --name "$INSTANCE" tcp 10.42.7.12 port 8080 2>&1) || fail "revoke: $out" || return 1
	[ "$(live_gen)" = "$gen" ] || fail "an exact revoke switched" || return 1
	wait $held
	# the server saw the bytes sent before the revoke, never the rest (it answers at idle)
	! grep -q "body=held-open" "$LOGS/decoy-7.12.log" ||
		fail "the request arrived whole after revoke: $(cat "$WORK/held")" || return 1
	[ "$(count no_rule)" -gt "$n" ] || fail "its next packets were not denied no_rule" || return 1
	"$BIN" log --name "$INSTANCE" 2>/dev/null | grep -Eq "deny +no_rule +tcp +10.42.0.2:[0-9]+ +-> 10.42.7.12:8080" ||
		fail "no no_rule denial of the connection in the log" || return 1
	[ ! -s "$LIVE_RULES_FILE" ] || fail "the drop-in still holds: $(cat "$LIVE_RULES_FILE")" || return 1
	! "$BIN" rules --name "$INSTANCE" | grep -q 10.42.7.12 || fail "rules still lists a revoked rule" || return 1
	[ "$(live_gen)" = "$gen" ] || fail "the edits switched"
}

# edits that do not fit the generation in force switch: a prefix, a port of a stage holding
# 16 rules or fewer in its program; and a reload after edits in place keeps them and counts on
test_live_edit_switch() {
	local gen out
	inplace_profile
	install_ingress "$INPLACE_PROFILE" || return 1
	"$BIN" allow --name "$INSTANCE" udp 10.42.7.12 port 9000 >/dev/null || fail "allow" || return 1
	raw --src 10.42.0.2 --dst 10.42.7.12 --proto udp --dport 9000 --count 2 || fail "rawframe" || return 1
	sleep 0.2
	gen=$(live_gen)
	# a prefix: the wide map, perhaps a flag of the generation's settings
	out=$("$BIN" allow --name "$INSTANCE" udp 10.42.8.0/24 port 9000 2>&1) || fail "allow prefix: $out" || return 1
	[ "$(live_gen)" != "$gen" ] || fail "a prefix allow did not switch" || return 1
	[ "$(rule_packets 90-live.rules "allow udp 10.42.7.12 port 9000")" = 2 ] ||
		fail "the switch lost the count of a rule added in place" || return 1
	gen=$(live_gen)
	# HTTPS's stage: a trie, whose lookups find prefixes
	out=$("$BIN" allow --name "$INSTANCE" tcp 203.0.113.9 port 443 2>&1) || fail "allow 443: $out" || return 1
	[ "$(live_gen)" != "$gen" ] || fail "an allow into a trie did not switch" || return 1
	expect_ok connect 203.0.113.9 443 || return 1
	gen=$(live_gen)
	"$BIN" revoke --name "$INSTANCE" tcp 203.0.113.9 port 443 >/dev/null || fail "revoke 443" || return 1
	[ "$(live_gen)" != "$gen" ] || fail "a revoke from a trie did not switch" || return 1
	expect_denied connect 203.0.113.9 443 || return 1
	# DNS's stage holds two rules, in its program (stage_baked)
	gen=$(live_gen)
	"$BIN" allow --name "$INSTANCE" udp 10.42.0.99 port 53 >/dev/null || fail "allow 53" || return 1
	[ "$(live_gen)" != "$gen" ] || fail "an allow into a stage of 16 rules or fewer did not switch" || return 1
	gen=$(live_gen)
	"$BIN" revoke --name "$INSTANCE" udp 10.42.0.99 port 53 >/dev/null || fail "revoke 53" || return 1
	[ "$(live_gen)" != "$gen" ] || fail "a revoke from a stage of 16 rules or fewer did not switch" || return 1
	# in place again after the switches, then a reload: the rule stays in force, its count too
	gen=$(live_gen)
	"$BIN" allow --name "$INSTANCE" udp 10.42.7.13 port 9000 >/dev/null || fail "allow 7.13" || return 1
	[ "$(live_gen)" = "$gen" ] || fail "the allow after switches did not go in place" || return 1
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload" || return 1
	"$BIN" rules --name "$INSTANCE" | grep -q "90-live.rules:3: allow udp 10.42.7.13 port 9000" ||
		fail "reload: $("$BIN" rules --name "$INSTANCE" | grep 90-live)" || return 1
	raw_delta no_rule 0 --src 10.42.0.2 --dst 10.42.7.12 --proto udp --dport 9000 --count 2
}

# a reload of the profile that runs already switches nothing (no new generation, the counters
# go on); a change of a rule file, or an edit in place since, and it switches
test_reload_unchanged() {
	local gen out
	inplace_profile
	install_ingress "$INPLACE_PROFILE" || return 1
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload" || return 1
	gen=$(live_gen)
	out=$("$BIN" reload --name "$INSTANCE" 2>&1) || fail "reload: $out" || return 1
	echo "$out" | grep -q "^unchanged (no switch) instance '$INSTANCE'" || fail "reload said: $out" || return 1
	[ "$(live_gen)" = "$gen" ] || fail "a reload of the same profile switched" || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	# an edit in place since: the running rule ids are not the profile's, a reload renumbers
	"$BIN" allow --name "$INSTANCE" udp 10.42.7.12 port 9000 >/dev/null || fail "allow" || return 1
	[ "$(live_gen)" = "$gen" ] || fail "the allow switched" || return 1
	out=$("$BIN" reload --name "$INSTANCE" 2>&1) || fail "reload after allow: $out" || return 1
	[ "$(live_gen)" != "$gen" ] || fail "a reload after an edit in place did not switch" || return 1
	gen=$(live_gen)
	# a rule file changed: switched, and the rule is in force
	echo "allow tcp 10.42.7.12 port 8080" >>"$INSTANCE_PROFILE_FILE"
	out=$("$BIN" reload --name "$INSTANCE" 2>&1) || fail "reload after a change: $out" || return 1
	echo "$out" | grep -q "^installed instance" || fail "reload after a change said: $out" || return 1
	[ "$(live_gen)" != "$gen" ] || fail "a reload of a changed profile did not switch" || return 1
	expect_ok connect 10.42.7.12 8080
}
