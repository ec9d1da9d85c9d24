# t_prefixes.sh: prefixes and rules for every port at every stage, with real curl in the
# sandbox: any rule that covers a connection lets it through, the rule that counts it.

area prefixes "" "" \
	test_prefixes_and_every_port_with_curl

# curl_as TOOL URL: curl in the sandbox as a process of TOOL, a POST; prints curl's exit status
curl_as() {
	in_tool "$1" curl -s -o /dev/null --connect-timeout 1 --max-time 3 -d "e2e-prefix" "$2"
	echo $?
}

# curl_row ok|denied TOOL URL: a table row; denied is a dropped SYN: curl's connect timeout (28)
curl_row() {
	local rc
	rc=$(curl_as "$2" "$3")
	case $1 in
	ok) [ "$rc" = 0 ] || fail "curl $3 as '$2': exit $rc, want 0 (allowed)" ;;
	denied) [ "$rc" = 28 ] || fail "curl $3 as '$2': exit $rc, want 28 (dropped, timed out)" ;;
	esac
}

test_prefixes_and_every_port_with_curl() {
	local p=$WORK/prof-prefixes
	mkdir -p "$p"
	cp rules.d/10-dns.rules "$p/"
	cat >"$p/30-net.rules" <<-'EOF2'
		allow tcp 203.0.113.0/24 port 443
		allow tcp 10.42.7.0/24 port 8080 tool memscraper
		allow tcp 10.42.7.12 tool other
	EOF2
	install_ingress "$p" || return 1
	each_row curl_row <<-'EOF2' || return 1
		# a /24 at the internal stage, the scraper's: both servers of it on 8080
		ok memscraper http://10.42.7.11:8080/
		ok memscraper http://10.42.7.12:8080/
		denied memscraper http://10.42.7.11:8081/
		# every port of 10.42.7.12, for the other tool; a /24 of 443 hides none of it
		ok other http://10.42.7.12:8080/
		denied other http://10.42.7.11:8080/
		denied "" http://10.42.7.12:8080/
	EOF2
	# the https stage's trie: the whole /24
	expect_ok connect 203.0.113.9 443 || return 1
	expect_denied connect 198.51.100.42 443 || return 1
	grep -q "body=e2e-prefix" "$LOGS/collector.log" ||
		fail "the collector did not get curl's POST" || return 1
	grep -q "body=e2e-prefix" "$LOGS/decoy-7.12.log" ||
		fail "10.42.7.12:8080 did not get curl's POST" || return 1
	# each rule counted what it let through; the every-port rule is in no one stage
	"$BIN" rules --name "$INSTANCE" --json >"$WORK/rules.json"
	grep -q '"stage":"internal","file":"[^"]*/30-net.rules","line":2,"text":"allow tcp 10.42.7.0/24 port 8080 tool memscraper","packets":[1-9]' "$WORK/rules.json" &&
		grep -q '"stage":"all","file":"[^"]*/30-net.rules","line":3,"text":"allow tcp 10.42.7.12 tool other","packets":[1-9]' "$WORK/rules.json" ||
		fail "rules --json: $(cat "$WORK/rules.json")"
}
