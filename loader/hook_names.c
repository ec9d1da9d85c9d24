/* hook_names.c: the hooks' labels and entry kinds, generated from HOOK_TABLE. */
#include "hook_names.h"

#define LABEL_ROW(ID, name, label, sec, entry, load, link, cgtype) [HOOK_##ID] = label,
static const char *const labels[NR_HOOKS] = { HOOK_TABLE(LABEL_ROW) };
#undef LABEL_ROW

enum entry_kind { ENTRY_SKB = 1, ENTRY_XDP, ENTRY_SOCK4, ENTRY_SOCK6 };

#define ENTRY_ROW(ID, name, label, sec, entry, load, link, cgtype) [HOOK_##ID] = ENTRY_##entry,
static const unsigned char entries[NR_HOOKS] = { HOOK_TABLE(ENTRY_ROW) };
#undef ENTRY_ROW

const char *hook_label(unsigned id)
{
	return id < NR_HOOKS && labels[id] ? labels[id] : "?";
}

bool hook_at_sock(unsigned id)
{
	return id < NR_HOOKS && (entries[id] == ENTRY_SOCK4 || entries[id] == ENTRY_SOCK6);
}
