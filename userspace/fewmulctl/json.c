// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl: a small streaming JSON writer (RFC 8259 string escaping).
 */
#include "fewmulctl.h"

static void json_sep(struct json *j)
{
	if (j->need_comma)
		fputc(',', j->f);
	j->need_comma = true;
}

static void json_escaped(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void json_key(struct json *j, const char *key)
{
	json_sep(j);
	if (key) {
		json_escaped(j->f, key);
		fputc(':', j->f);
	}
}

void json_begin(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->need_comma = false;
	fputc('{', f);
	j->depth++;
}

void json_end(struct json *j)
{
	fputs("}\n", j->f);
	j->depth--;
	flush_out(j->f);
}

void json_obj_open(struct json *j, const char *key)
{
	json_key(j, key);
	fputc('{', j->f);
	j->need_comma = false;
	j->depth++;
}

void json_obj_close(struct json *j)
{
	fputc('}', j->f);
	j->need_comma = true;
	j->depth--;
}

void json_arr_open(struct json *j, const char *key)
{
	json_key(j, key);
	fputc('[', j->f);
	j->need_comma = false;
	j->depth++;
}

void json_arr_close(struct json *j)
{
	fputc(']', j->f);
	j->need_comma = true;
	j->depth--;
}

void json_str(struct json *j, const char *key, const char *val)
{
	json_key(j, key);
	json_escaped(j->f, val);
}

void json_u64(struct json *j, const char *key, unsigned long long val)
{
	json_key(j, key);
	fprintf(j->f, "%llu", val);
}

void json_bool(struct json *j, const char *key, bool val)
{
	json_key(j, key);
	fputs(val ? "true" : "false", j->f);
}

void json_double(struct json *j, const char *key, double val)
{
	json_key(j, key);
	fprintf(j->f, "%.6g", val);
}
