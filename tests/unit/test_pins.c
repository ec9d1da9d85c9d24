/* test_pins.c: pin names carry what a link is attached to (namespaces by name, path or pid:), and bpffs takes no '.' in them. */
#include <criterion/criterion.h>
#include <string.h>
#include "netns.h"
#include "pins.h"

static void round_trip(const struct attach_point *pt, enum link_hook hook)
{
	struct attach_point back;
	enum link_hook h;
	char pin[PIN_NAME_MAX];

	pin_name_link(pin, sizeof(pin), pt, hook);
	cr_assert(pin[0], "no pin name for %s", pt->ifname[0] ? pt->ifname : pt->cgroup);
	cr_assert_null(strchr(pin, '.'), "'%s' has a '.', which bpffs refuses", pin);
	cr_assert_null(strchr(pin, '/'), "'%s' has a '/'", pin);
	cr_assert_eq(pin_parse_link(pin, &back, &h), 0, "'%s' does not parse", pin);
	cr_assert_eq(h, hook, "'%s': hook %d, want %d", pin, h, hook);
	cr_assert_eq(back.kind, pt->kind);
	cr_assert_str_eq(back.ifname, pt->ifname);
	cr_assert_str_eq(back.netns, pt->netns);
	cr_assert_str_eq(back.cgroup, pt->cgroup);
}

Test(pins, tc_links)
{
	struct attach_point pt = { .kind = ATTACH_TC_INGRESS,
				   .ifname = "veth.sbx@1",
				   .netns = "corp.1" };

	enum link_hook hooks[ATTACH_MAX_HOOKS];

	cr_assert_eq(attach_point_hooks(&pt, hooks), 2);
	cr_assert(hooks[0] == LINK_TC_INGRESS && hooks[1] == LINK_LEARN_EGRESS,
		  "a --tc-ingress point judges at tc ingress and learns DNS answers at tc egress");
	round_trip(&pt, LINK_TC_INGRESS);
	round_trip(&pt, LINK_LEARN_EGRESS);
	pt.kind = ATTACH_TC_EGRESS;
	pt.netns[0] = '\0';
	cr_assert_eq(attach_point_hooks(&pt, hooks), 2);
	cr_assert(hooks[0] == LINK_TC_EGRESS && hooks[1] == LINK_LEARN_INGRESS,
		  "a --tc point judges at tc egress and learns DNS answers at tc ingress");
	round_trip(&pt, LINK_TC_EGRESS);
	round_trip(&pt, LINK_LEARN_INGRESS);
}

Test(pins, xdp_attachment)
{
	struct attach_point pt = { .kind = ATTACH_XDP, .ifname = "host0", .netns = "corp%x" };
	enum link_hook hooks[ATTACH_MAX_HOOKS];

	cr_assert(attach_point_hooks(&pt, hooks) == 1 && hooks[0] == LINK_XDP,
		  "an XDP point is one XDP attachment");
	round_trip(&pt, LINK_XDP);
}

Test(pins, cgroup_links)
{
	struct attach_point pt = { .kind = ATTACH_CGROUP,
				   .cgroup = "sandboxes/scraper.slice/tool%1" };

	enum link_hook hooks[ATTACH_MAX_HOOKS];
	size_t n = attach_point_hooks(&pt, hooks);

	cr_assert_eq(n, 6, "a cgroup point is sock_create and five hooks, not %zu", n);
	for (size_t i = 0; i < n; i++)
		round_trip(&pt, hooks[i]);
}

Test(pins, too_long_for_a_pin)
{
	struct attach_point pt = { .kind = ATTACH_CGROUP };
	char pin[PIN_NAME_MAX];

	memset(pt.cgroup, 'a', 300);
	pin_name_link(pin, sizeof(pin), &pt, LINK_OF_HOOK(HOOK_CONNECT4));
	cr_assert_eq(pin[0], '\0', "a 300-character cgroup path cannot name a pin");
}

Test(pins, not_a_link)
{
	struct attach_point pt;
	enum link_hook h;

	cr_assert_neq(pin_parse_link("rules-dns", &pt, &h), 0);
	cr_assert_neq(pin_parse_link("link-bogus-eth0", &pt, &h), 0);
	cr_assert_neq(pin_parse_link("link-tc_ingress-eth%zz", &pt, &h), 0);
}

Test(pins, namespaces_by_path_and_pid)
{
	struct attach_point pt = { .kind = ATTACH_TC_INGRESS, .ifname = "veth1a2b3c" };
	const char *refs[] = { "/var/run/netns/cni-2f6a1e8b-9e3c-4a7f-bc1a-1234567890ab",
			       "/proc/4242/ns/net", "pid:4242", "corp" };

	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		cr_assert_eq(attach_point_parse("veth1a2b3c@x", ATTACH_TC_INGRESS, &pt), 0);
		snprintf(pt.netns, sizeof(pt.netns), "%s", refs[i]);
		round_trip(&pt, LINK_TC_INGRESS);
	}
}

Test(netns, refs)
{
	struct attach_point pt;
	char path[NETNS_REF_MAX + 32];
	const char *good[] = { "corp", "/run/netns/corp", "/proc/1/ns/net", "pid:1",
			       "pid:4194304" };
	const char *bad[] = {
		"",	     ".",	"..",	  "rel/path",	     "pid:",
		"pid:0",     "pid:12a", "pid:-1", "pid:99999999999", "/run/netns/a\nb",
		"with space"
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(netns_ref_valid(good[i]), 0, "'%s' names a namespace", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_neq(netns_ref_valid(bad[i]), 0, "'%s' is no namespace", bad[i]);
	cr_assert(netns_ref_path("corp", path, sizeof(path)) == 0 &&
		  !strcmp(path, "/run/netns/corp"));
	cr_assert(netns_ref_path("pid:77", path, sizeof(path)) == 0 &&
		  !strcmp(path, "/proc/77/ns/net"));
	cr_assert(netns_ref_path("/x/y", path, sizeof(path)) == 0 && !strcmp(path, "/x/y"));
	cr_assert(netns_ref_persistent("corp") && netns_ref_persistent("/run/netns/corp"));
	cr_assert(!netns_ref_persistent("pid:77") && !netns_ref_persistent("/proc/77/ns/net"),
		  "a process's namespace does not outlive a reboot");
	/* IFACE@NS splits at the first '@'; the interface takes no '/' */
	cr_assert_eq(attach_point_parse("host0@/run/netns/a@b", ATTACH_XDP, &pt), 0);
	cr_assert(!strcmp(pt.ifname, "host0") && !strcmp(pt.netns, "/run/netns/a@b"));
	cr_assert_neq(attach_point_parse("host0@rel/path", ATTACH_XDP, &pt), 0);
	cr_assert_neq(attach_point_parse("a/b@corp", ATTACH_XDP, &pt), 0);
}
