#!/usr/bin/env bash
# lint/run.sh: the tree's house rules, checked: formatting, no include cycle in loader/, files of one job.
# Prints PASS/FAIL per check and "lint: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
. tests/checks.sh

# make format leaves the tree as it is
formatted() {
	git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror
}

# module X uses module Y when X.c or X.h includes Y.h; tsort refuses a graph with a loop
no_include_cycle() {
	local f m inc
	for f in loader/*.[ch]; do
		m=$(basename "${f%.*}")
		echo "$m $m"
		for inc in $(sed -n 's/^#include "\([^"]*\)\.h".*/\1/p' "$f"); do
			[ -e "loader/$inc.h" ] && [ "$inc" != "$m" ] && echo "$m $inc"
		done
	done | tsort >/dev/null
}

# one job a file: none in loader/, progs/ or include/ over 700 lines
files_of_one_job() {
	local big
	big=$(find loader progs include -name '*.[ch]' -exec wc -l {} + | awk '$2 != "total" && $1 > 700')
	[ -z "$big" ] || { echo "over 700 lines: $big"; return 1; }
}

check formatted formatted
check no_include_cycle no_include_cycle
check files_of_one_job files_of_one_job
checks_summary lint
