# t_frames.sh: frames written with AF_PACKET (tools/rawframe.c), past the socket hooks: what
# host-side tc judges (layer 2 too, on a routed veth: t_l2.sh has the bridge), and what
# PACKET_QDISC_BYPASS skips.

area frames "flow_profiles" "" \
	test_af_packet_frames_at_host_side test_qdisc_bypass_skips_sandbox_egress

test_af_packet_frames_at_host_side() {
	install_ingress "$FLOW_PROFILE" || return 1
	# reason, frames counted, rawframe's arguments
	each_row raw_delta <<-'EOF' || return 1
		no_rule 5 --src 10.42.0.2 --dst 10.42.7.12 --proto tcp --dport 8080 --count 5
		no_rule 5 --src 10.42.0.2 --dst 10.42.7.12 --proto tcp --dport 8080 --count 5 --qdisc-bypass
		spoofed_source 5 --src 10.42.0.77 --dst 10.42.7.11 --proto tcp --dport 8080 --count 5 --qdisc-bypass
		vlan 4 --src 10.42.0.2 --dst 10.42.7.11 --proto tcp --dport 8080 --count 4 --vlan 5 --qdisc-bypass
		truncated 3 --src 10.42.0.2 --dst 10.42.7.11 --proto tcp --dport 8080 --count 3 --truncate 20 --qdisc-bypass
		truncated 3 --src 10.42.0.2 --dst 10.42.7.11 --proto tcp --dport 8080 --count 3 --truncate 44 --qdisc-bypass
		rule 3 --src 10.42.0.2 --dst 10.42.7.11 --proto udp --dport 9000 --count 3 --qdisc-bypass
		spoofed_mac 3 --src 10.42.0.2 --dst 10.42.7.11 --proto udp --dport 9000 --count 3 --src-mac 02:00:00:00:77:77
		l2_dst 3 --src 10.42.0.2 --dst 10.42.7.11 --proto udp --dport 9000 --count 3 --dst-mac ff:ff:ff:ff:ff:ff
		trailer 3 --src 10.42.0.2 --dst 10.42.7.11 --proto udp --dport 9000 --count 3 --trailer 6
	EOF
	sleep 0.1
	[ "$(grep -c "udp from" "$LOGS/flow-allowed.log")" -ge 3 ] ||
		fail "the allowed raw datagrams did not reach the server"
}

# the in-sandbox hook is skipped by PACKET_QDISC_BYPASS: why host-side is recommended
test_qdisc_bypass_skips_sandbox_egress() {
	install_egress || return 1
	local deny=(--src 10.42.0.2 --dst 10.42.7.12 --proto udp --dport 9000 --count 5) got
	got=$(grep -c "udp from" "$LOGS/flow-denied.log")
	raw_delta no_rule 5 "${deny[@]}" || return 1
	[ "$(grep -c "udp from" "$LOGS/flow-denied.log")" = "$got" ] || fail "denied frames arrived"
	raw_delta no_rule 0 "${deny[@]}" --qdisc-bypass || return 1
	sleep 0.1
	[ "$(grep -c "udp from" "$LOGS/flow-denied.log")" = $((got + 5)) ] ||
		fail "frames sent with PACKET_QDISC_BYPASS did not arrive: the bypass was not shown"
}
