# t_scenario.sh: the demo's scenario (tools/demo.sh) as assertions, at host-side tc ingress and
# at in-sandbox tc egress. The cases themselves are scenario_cases in lib.sh (XDP runs them too).

area scenario "" "" \
	test_scenario_host_side_tc_ingress test_scenario_sandbox_tc_egress

test_scenario_host_side_tc_ingress() {
	install_ingress || return 1
	scenario_cases ingress
}

test_scenario_sandbox_tc_egress() {
	install_egress || return 1
	scenario_cases egress
}
