/* json.c: the one JSON writer: commas and nesting kept for the caller; always valid JSON and UTF-8. */
#include <stdarg.h>
#include "json.h"
#include "text.h"

/* s alone as a JSON string, escaped as json.h says ("null" for NULL) */
static void json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	while (*p) {
		size_t n = utf8_seq_len(p);

		if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p++);
		} else if (n == 1 && *p >= 0x20 && *p != 0x7f) {
			fputc(*p++, out);
		} else if (n > 1) {
			fwrite(p, 1, n, out);
			p += n;
		} else {
			/* a control character, or a byte of no valid UTF-8 read as Latin-1 */
			fprintf(out, "\\u%04x", *p++);
		}
	}
	fputc('"', out);
}

void json_init(struct json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->need_comma[0] = false;
}

/* the comma and key before a value */
static void json_key(struct json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	j->need_comma[j->depth] = true;
	if (key) {
		json_string(j->out, key);
		fputc(':', j->out);
	}
}

static void json_open(struct json *j, const char *key, char open, char close)
{
	json_key(j, key);
	fputc(open, j->out);
	if (j->depth < JSON_MAX_DEPTH)
		j->depth++;
	j->need_comma[j->depth] = false;
	j->closer[j->depth] = close;
}

void json_object(struct json *j, const char *key)
{
	json_open(j, key, '{', '}');
}

void json_array(struct json *j, const char *key)
{
	json_open(j, key, '[', ']');
}

void json_end(struct json *j)
{
	if (j->depth == 0)
		return;
	fputc(j->closer[j->depth--], j->out);
	if (j->depth == 0)
		fputc('\n', j->out);
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j->out, s);
}

void json_u64(struct json *j, const char *key, unsigned long long v)
{
	json_key(j, key);
	fprintf(j->out, "%llu", v);
}

void json_int(struct json *j, const char *key, long long v)
{
	json_key(j, key);
	fprintf(j->out, "%lld", v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->out);
}

void json_raw(struct json *j, const char *key, const char *fmt, ...)
{
	va_list ap;

	json_key(j, key);
	va_start(ap, fmt);
	vfprintf(j->out, fmt, ap);
	va_end(ap);
}
