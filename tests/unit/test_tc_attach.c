/* test_tc_attach.c: how tc points attach: IRONCLAW_TC_ATTACH read, a bad value refused in one line. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tc_classic.h"

static void unset_env(void)
{
	unsetenv(TC_ATTACH_ENV);
}

TestSuite(tc_attach, .fini = unset_env);

Test(tc_attach, classic_forced)
{
	enum tc_attach_mode mode = TC_ATTACH_TCX;
	char why[160] = "";

	setenv(TC_ATTACH_ENV, "classic", 1);
	cr_assert_eq(tc_attach_mode(&mode, why, sizeof(why)), 0);
	cr_assert_eq(mode, TC_ATTACH_CLASSIC);
	cr_assert_str_empty(why);
}

Test(tc_attach, unset_follows_the_kernel)
{
	enum tc_attach_mode mode;

	unsetenv(TC_ATTACH_ENV);
	cr_assert_eq(tc_attach_mode(&mode, NULL, 0), 0);
	cr_assert_eq(mode, tc_tcx_supported() ? TC_ATTACH_TCX : TC_ATTACH_CLASSIC);
}

Test(tc_attach, tcx_forced_only_where_the_kernel_has_it)
{
	enum tc_attach_mode mode;
	char why[160] = "";
	int err;

	setenv(TC_ATTACH_ENV, "tcx", 1);
	err = tc_attach_mode(&mode, why, sizeof(why));
	if (tc_tcx_supported()) {
		cr_assert_eq(err, 0);
		cr_assert_eq(mode, TC_ATTACH_TCX);
	} else {
		cr_assert_eq(err, -EOPNOTSUPP);
		cr_assert_str_eq(why,
				 "IRONCLAW_TC_ATTACH=tcx: this kernel has no tcx links (6.6 or "
				 "later); unset it to attach with classic tc");
	}
}

Test(tc_attach, bad_value_refused)
{
	enum tc_attach_mode mode;
	char why[160] = "";

	setenv(TC_ATTACH_ENV, "Classic", 1);
	cr_assert_eq(tc_attach_mode(&mode, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why,
			 "IRONCLAW_TC_ATTACH=Classic: give tcx or classic (or leave it unset)");
}
