# t_live_edits.sh: allow and revoke change the running policy through the live drop-in
# (LIVE_RULES_FILE); reload keeps them, refused edits change nothing, a block stays.

area live_edits "" "" \
	test_live_edits

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
