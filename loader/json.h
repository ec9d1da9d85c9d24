/* json.h: the one JSON writer: commas and nesting kept for the caller; always valid JSON and UTF-8. */
#ifndef IRONCLAW_JSON_H
#define IRONCLAW_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *out;
	int depth;
	bool need_comma[JSON_MAX_DEPTH + 1];
	char closer[JSON_MAX_DEPTH + 1]; /* '}' or ']' for each open level */
};

/*
 * Every value takes a key: the member's name inside an object, NULL inside
 * an array or at the top. Strings may hold any bytes: quotes, '\' and
 * control characters are escaped, and a byte that is not part of valid
 * UTF-8 is written as the character of that code point (\u00XX), so the
 * output is valid UTF-8 whatever comes in. A NULL string is null.
 */
void json_init(struct json *j, FILE *out);
void json_object(struct json *j, const char *key);
void json_array(struct json *j, const char *key);
/* closes the innermost object or array; at depth 0 ends the line */
void json_end(struct json *j);
void json_str(struct json *j, const char *key, const char *s);
void json_u64(struct json *j, const char *key, unsigned long long v);
void json_int(struct json *j, const char *key, long long v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* a value written by the caller (a number in a format of its own) */
void json_raw(struct json *j, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
