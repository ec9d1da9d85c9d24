/* text.h: bytes from profiles and sandboxes made safe for a terminal line, and UTF-8 checks. */
#ifndef IRONCLAW_TEXT_H
#define IRONCLAW_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* the length of the valid UTF-8 sequence at s (1-4), or 0 when s starts no valid one */
size_t utf8_seq_len(const unsigned char *s);
/* s for a terminal: control characters (C0, DEL, C1), '\' and bytes of no valid UTF-8 as \xNN */
void text_plain(FILE *out, const char *s);

#endif
