/*
 * svcb.c - the SvcParams of SVCB and HTTPS records (RFC 9460): key=value
 * text to wire, the wire rules, and wire back to text.
 *
 * In wire format the parameters are sorted by key, with no key twice;
 * text may list them in any order, and they are sorted here. "mandatory"
 * lists keys (never itself) that must all be present; "no-default-alpn"
 * needs "alpn" beside it (section 7.1.1). A value is a <character-string>
 * whose escapes are decoded first; the lists of "alpn" then escape ',' and
 * '\' once more with a backslash (appendix A.1), so an ALPN id holding a
 * comma is written "a\\,b". Parsing allocates one scratch buffer.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* The most parameters one record may have (each key at most once). */
#define SVCB_PARAMS_MAX 64

enum svcb_key {
	SVCB_MANDATORY = 0,
	SVCB_ALPN = 1,
	SVCB_NO_DEFAULT_ALPN = 2,
	SVCB_PORT = 3,
	SVCB_IPV4HINT = 4,
	SVCB_ECH = 5,
	SVCB_IPV6HINT = 6,
	SVCB_DOHPATH = 7,
	SVCB_OHTTP = 8,
	SVCB_INVALID = 65535,
};

static const char *const svcb_names[] = {"mandatory", "alpn",
    "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint", "dohpath",
    "ohttp"};

#define SVCB_NAMED (sizeof(svcb_names) / sizeof(svcb_names[0]))

static uint16_t
svcb_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- names of keys ------------------------------------------------------- */

/* A key by name or as keyNNNNN; false if it is neither. */
static bool
svcb_key_parse(const char *t, size_t len, uint16_t *key)
{
	for (size_t i = 0; i < SVCB_NAMED; i++)
		if (strlen(svcb_names[i]) == len &&
		    strncasecmp(t, svcb_names[i], len) == 0) {
			*key = (uint16_t)i;
			return true;
		}
	/* Unlike TYPEnnn, keyNNNNN has no leading zeros (RFC 9460
	 * section 2.1). */
	return !(len > 4 && t[3] == '0') &&
	    zone_generic_number(t, len, "key", key);
}

static void
svcb_key_text(struct zone_out *o, uint16_t key)
{
	if (key < SVCB_NAMED)
		zone_out_printf(o, "%s", svcb_names[key]);
	else
		zone_out_printf(o, "key%u", key);
}

/* ---- the wire rules ------------------------------------------------------ */

static bool
svcb_alpn_ok(const uint8_t *v, size_t n)
{
	size_t pos = 0;

	while (pos < n) {
		if (v[pos] == 0)
			return false;
		pos += 1 + (size_t)v[pos];
	}
	return n > 0 && pos == n;
}

static bool
svcb_mandatory_ok(const uint8_t *v, size_t n)
{
	if (n == 0 || n % 2 != 0)
		return false;
	for (size_t i = 0; i < n; i += 2)
		if (svcb_get16(v + i) == SVCB_MANDATORY ||
		    (i > 0 && svcb_get16(v + i) <= svcb_get16(v + i - 2)))
			return false;
	return true;
}

/* The rules of one value by its key; NULL or the reason it is bad. */
static const char *
svcb_value_check(uint16_t key, const uint8_t *v, size_t n)
{
	switch (key) {
	case SVCB_MANDATORY:
		return svcb_mandatory_ok(v, n)
		    ? NULL
		    : "mandatory: a list of other keys, each once";
	case SVCB_ALPN:
		return svcb_alpn_ok(v, n) ? NULL : "alpn: empty or bad list";
	case SVCB_NO_DEFAULT_ALPN:
		return n == 0 ? NULL : "no-default-alpn takes no value";
	case SVCB_PORT:
		return n == 2 ? NULL : "port: a number up to 65535";
	case SVCB_IPV4HINT:
		return n > 0 && n % 4 == 0 ? NULL : "ipv4hint: bad addresses";
	case SVCB_IPV6HINT:
		return n > 0 && n % 16 == 0 ? NULL : "ipv6hint: bad addresses";
	case SVCB_INVALID:
		return "key65535 is reserved";
	default:
		return NULL;
	}
}

/* Whether the parameters hold key; params passed the order check. */
static bool
svcb_has_key(const uint8_t *data, size_t len, uint16_t key)
{
	for (size_t pos = 0; pos + 4 <= len;
	     pos += 4 + (size_t)svcb_get16(data + pos + 2))
		if (svcb_get16(data + pos) == key)
			return true;
	return false;
}

/* The rules between keys: mandatory ones present, alpn beside
 * no-default-alpn. */
static const char *
svcb_cross_check(const uint8_t *data, size_t len)
{
	for (size_t pos = 0; pos < len;
	     pos += 4 + (size_t)svcb_get16(data + pos + 2)) {
		uint16_t key = svcb_get16(data + pos);
		size_t n = svcb_get16(data + pos + 2);

		if (key == SVCB_NO_DEFAULT_ALPN &&
		    !svcb_has_key(data, len, SVCB_ALPN))
			return "no-default-alpn without alpn";
		for (size_t i = 0; key == SVCB_MANDATORY && i < n; i += 2)
			if (!svcb_has_key(data, len, svcb_get16(data + pos + 4 + i)))
				return "a mandatory key is missing";
	}
	return NULL;
}

const char *
zone_svcb_check(const uint8_t *data, size_t len)
{
	size_t pos = 0;
	int last = -1;
	const char *why;

	while (pos < len) {
		uint16_t key, n;

		if (len - pos < 4)
			return "truncated parameter";
		key = svcb_get16(data + pos);
		n = svcb_get16(data + pos + 2);
		if ((int)key <= last)
			return "keys out of order or repeated";
		if ((size_t)n > len - pos - 4)
			return "truncated parameter";
		if ((why = svcb_value_check(key, data + pos + 4, n)) != NULL)
			return why;
		last = key;
		pos += 4 + (size_t)n;
	}
	return svcb_cross_check(data, len);
}

bool
zone_svcb_wire_ok(const uint8_t *data, size_t len)
{
	return zone_svcb_check(data, len) == NULL;
}

/* ---- text to wire -------------------------------------------------------- */

struct svcb_param {
	uint16_t key;
	uint16_t len;
	uint32_t at; /* in the scratch buffer */
};

/* A parse in progress: decoded value, wire values, parameters so far. */
struct svcb_parse {
	struct zone_fields *f;
	unsigned line;
	uint8_t *value; /* the current value, escapes decoded */
	size_t value_len;
	uint8_t *wire; /* every value in wire format, one after the other */
	size_t wire_len;
	struct svcb_param params[SVCB_PARAMS_MAX];
	size_t count;
};

static int
svcb_fail(struct svcb_parse *p, const char *why)
{
	return zone_fail(p->f->b, -EINVAL, p->f->src->file, p->line,
	    "bad SVCB parameter: %s", why);
}

static int
svcb_put(struct svcb_parse *p, const void *data, size_t n)
{
	if (n > 65535 - p->wire_len)
		return svcb_fail(p, "parameters longer than 65535 octets");
	memcpy(p->wire + p->wire_len, data, n);
	p->wire_len += n;
	return 0;
}

static int
svcb_put16(struct svcb_parse *p, uint32_t v)
{
	return svcb_put(p, (uint8_t[]){(uint8_t)(v >> 8), (uint8_t)v}, 2);
}

/* Splits the value at unescaped commas; backslashes escape when list is
 * set (alpn's two-level escaping), and each item goes to put(). */
static int
svcb_each_item(struct svcb_parse *p, bool escapes,
    int (*put)(struct svcb_parse *p, const uint8_t *item, size_t n))
{
	uint8_t item[256];
	size_t n = 0;
	int rc;

	for (size_t i = 0; i <= p->value_len; i++) {
		if (i == p->value_len || p->value[i] == ',') {
			if (n == 0)
				return svcb_fail(p, "empty item in a list");
			if ((rc = put(p, item, n)) < 0)
				return rc;
			n = 0;
			continue;
		}
		if (escapes && p->value[i] == '\\' && i + 1 < p->value_len)
			i++;
		if (n == 255)
			return svcb_fail(p, "list item longer than 255 octets");
		item[n++] = p->value[i];
	}
	return 0;
}

static int
svcb_put_alpn(struct svcb_parse *p, const uint8_t *item, size_t n)
{
	int rc = svcb_put(p, (uint8_t[]){(uint8_t)n}, 1);

	return rc < 0 ? rc : svcb_put(p, item, n);
}

static int
svcb_put_address(struct svcb_parse *p, const uint8_t *item, size_t n,
    int family)
{
	char text[64];
	uint8_t addr[16];

	if (n >= sizeof(text))
		return svcb_fail(p, "bad address in a hint");
	memcpy(text, item, n);
	text[n] = '\0';
	if (inet_pton(family, text, addr) != 1)
		return svcb_fail(p, "bad address in a hint");
	return svcb_put(p, addr, family == AF_INET ? 4 : 16);
}

static int
svcb_put_ipv4(struct svcb_parse *p, const uint8_t *item, size_t n)
{
	return svcb_put_address(p, item, n, AF_INET);
}

static int
svcb_put_ipv6(struct svcb_parse *p, const uint8_t *item, size_t n)
{
	return svcb_put_address(p, item, n, AF_INET6);
}

static int
svcb_put_key(struct svcb_parse *p, const uint8_t *item, size_t n)
{
	uint16_t key;

	if (!svcb_key_parse((const char *)item, n, &key))
		return svcb_fail(p, "unknown key in mandatory");
	return svcb_put16(p, key);
}

/* Sorts mandatory's keys (text may list them in any order). */
static void
svcb_sort_keys(uint8_t *v, size_t n)
{
	for (size_t i = 2; i < n; i += 2)
		for (size_t j = i; j > 0 && svcb_get16(v + j) < svcb_get16(v + j - 2);
		     j -= 2) {
			uint8_t t[2] = {v[j], v[j + 1]};

			memcpy(v + j, v + j - 2, 2);
			memcpy(v + j - 2, t, 2);
		}
}

static int
svcb_put_port(struct svcb_parse *p)
{
	uint32_t v = 0;

	for (size_t i = 0; i < p->value_len; i++) {
		if (p->value[i] < '0' || p->value[i] > '9' || i >= 5)
			return svcb_fail(p, "port: a number up to 65535");
		v = v * 10 + (uint32_t)(p->value[i] - '0');
	}
	if (p->value_len == 0 || v > 65535)
		return svcb_fail(p, "port: a number up to 65535");
	return svcb_put16(p, v);
}

static int
svcb_put_ech(struct svcb_parse *p)
{
	int n = zone_base64_decode((const char *)p->value, p->value_len,
	    p->wire + p->wire_len, 65535 - p->wire_len);

	if (n < 0)
		return svcb_fail(p, "ech: bad base64");
	p->wire_len += (size_t)n;
	return 0;
}

/* The value of key, from p->value into p->wire. */
static int
svcb_value(struct svcb_parse *p, uint16_t key)
{
	size_t start = p->wire_len;
	int rc;

	switch (key) {
	case SVCB_MANDATORY:
		rc = svcb_each_item(p, false, svcb_put_key);
		if (rc == 0)
			svcb_sort_keys(p->wire + start, p->wire_len - start);
		return rc;
	case SVCB_ALPN:
		return svcb_each_item(p, true, svcb_put_alpn);
	case SVCB_PORT:
		return svcb_put_port(p);
	case SVCB_IPV4HINT:
		return svcb_each_item(p, false, svcb_put_ipv4);
	case SVCB_IPV6HINT:
		return svcb_each_item(p, false, svcb_put_ipv6);
	case SVCB_ECH:
		return svcb_put_ech(p);
	default:
		return svcb_put(p, p->value, p->value_len);
	}
}

/* Decodes a value's escapes into p->value. */
static int
svcb_decode(struct svcb_parse *p, const char *t, size_t n)
{
	size_t i = 0;
	const char *why;

	p->value_len = 0;
	while (i < n) {
		uint8_t c = (uint8_t)t[i];

		if (c == '\\') {
			if ((why = zone_escape(t, n, &i, &c)) != NULL)
				return svcb_fail(p, why);
		} else {
			i++;
		}
		if (p->value_len == 65535)
			return svcb_fail(p, "value longer than 65535 octets");
		p->value[p->value_len++] = c;
	}
	return 0;
}

/*
 * One key=value field. The lexer ends an unquoted field at '"', so
 * key="value" arrives as "key=" followed, without a gap, by the quoted
 * field, which is then taken as the value.
 */
static int
svcb_param(struct svcb_parse *p, const struct zone_token *tok)
{
	struct zone_fields *f = p->f;
	const char *t = zone_token_text(f->src, tok);
	const char *eq = memchr(t, '=', tok->len);
	size_t key_len = eq == NULL ? tok->len : (size_t)(eq - t);
	const char *value = eq == NULL ? "" : eq + 1;
	size_t value_len = eq == NULL ? 0 : tok->len - key_len - 1;
	const struct zone_token *next = &f->b->tokens[f->next];
	uint16_t key;
	int rc;

	p->line = tok->line;
	if (tok->quoted || !svcb_key_parse(t, key_len, &key))
		return svcb_fail(p, "unknown key");
	if (eq != NULL && value_len == 0 && f->next < f->end &&
	    next->quoted && next->offset == tok->offset + tok->len + 1) {
		value = zone_token_text(f->src, next);
		value_len = next->len;
		f->next++;
	}
	if (p->count == SVCB_PARAMS_MAX)
		return svcb_fail(p, "too many parameters");
	for (size_t i = 0; i < p->count; i++)
		if (p->params[i].key == key)
			return svcb_fail(p, "a key appears twice");
	p->params[p->count] = (struct svcb_param){key, 0, (uint32_t)p->wire_len};
	if ((rc = svcb_decode(p, value, value_len)) < 0 ||
	    (rc = svcb_value(p, key)) < 0)
		return rc;
	if (p->wire_len - p->params[p->count].at > 65535)
		return svcb_fail(p, "value longer than 65535 octets");
	p->params[p->count].len =
	    (uint16_t)(p->wire_len - p->params[p->count].at);
	p->count++;
	return 0;
}

/* Writes the parameters sorted by key, then checks the whole. */
static int
svcb_emit(struct svcb_parse *p)
{
	size_t start = p->f->len;
	const char *why;
	int rc;

	for (size_t i = 1; i < p->count; i++)
		for (size_t j = i; j > 0 && p->params[j].key < p->params[j - 1].key;
		     j--) {
			struct svcb_param t = p->params[j];

			p->params[j] = p->params[j - 1];
			p->params[j - 1] = t;
		}
	for (size_t i = 0; i < p->count; i++) {
		const struct svcb_param *sp = &p->params[i];
		uint8_t head[4] = {(uint8_t)(sp->key >> 8), (uint8_t)sp->key,
		    (uint8_t)(sp->len >> 8), (uint8_t)sp->len};

		if ((rc = zone_fields_put(p->f, head, 4)) < 0 ||
		    (rc = zone_fields_put(p->f, p->wire + sp->at, sp->len)) < 0)
			return rc;
	}
	why = zone_svcb_check(p->f->b->rdata + start, p->f->len - start);
	return why == NULL ? 0 : svcb_fail(p, why);
}

int
zone_svcb_parse(struct zone_fields *f)
{
	struct svcb_parse *p = calloc(1, sizeof(*p));
	int rc = 0;

	if (p == NULL || (p->value = malloc(2 * 65536)) == NULL) {
		free(p);
		return zone_fail(f->b, -ENOMEM, f->src->file, f->line,
		    "out of memory");
	}
	p->wire = p->value + 65536;
	p->f = f;
	p->line = f->line;
	while (rc == 0 && f->next < f->end)
		rc = svcb_param(p, &f->b->tokens[f->next++]);
	if (rc == 0)
		rc = svcb_emit(p);
	free(p->value);
	free(p);
	return rc;
}

/* ---- wire to text -------------------------------------------------------- */

/* An alpn id or a generic value: list escapes, then string escapes. */
static void
svcb_text_item(struct zone_out *o, const uint8_t *v, size_t n, bool list)
{
	for (size_t i = 0; i < n; i++) {
		if (list && (v[i] == ',' || v[i] == '\\'))
			zone_out_put(o, "\\\\", 2);
		zone_out_escaped(o, v + i, 1);
	}
}

static void
svcb_text_value(struct zone_out *o, uint16_t key, const uint8_t *v, size_t n)
{
	char addr[64];

	for (size_t i = 0; key == SVCB_MANDATORY && i < n; i += 2) {
		zone_out_put(o, i > 0 ? "," : "", i > 0);
		svcb_key_text(o, svcb_get16(v + i));
	}
	for (size_t i = 0; key == SVCB_ALPN && i < n; i += 1 + (size_t)v[i]) {
		zone_out_put(o, i > 0 ? "," : "\"", 1);
		svcb_text_item(o, v + i + 1, v[i], true);
	}
	if (key == SVCB_ALPN)
		zone_out_put(o, "\"", 1);
	if (key == SVCB_PORT)
		zone_out_printf(o, "%u", svcb_get16(v));
	for (size_t i = 0, w = key == SVCB_IPV4HINT ? 4 : 16;
	     (key == SVCB_IPV4HINT || key == SVCB_IPV6HINT) && i < n; i += w) {
		inet_ntop(w == 4 ? AF_INET : AF_INET6, v + i, addr, sizeof(addr));
		zone_out_printf(o, "%s%s", i > 0 ? "," : "", addr);
	}
	if (key == SVCB_ECH)
		zone_out_base64(o, v, n);
	if (key > SVCB_PORT && key != SVCB_IPV4HINT && key != SVCB_IPV6HINT &&
	    key != SVCB_ECH) {
		zone_out_put(o, "\"", 1);
		svcb_text_item(o, v, n, false);
		zone_out_put(o, "\"", 1);
	}
}

void
zone_svcb_text(struct zone_out *o, const uint8_t *data, size_t len)
{
	for (size_t pos = 0; pos + 4 <= len && !o->overflow;) {
		uint16_t key = svcb_get16(data + pos);
		size_t n = svcb_get16(data + pos + 2);

		zone_out_put(o, " ", 1);
		svcb_key_text(o, key);
		if (key != SVCB_NO_DEFAULT_ALPN && !(n == 0 && key > SVCB_PORT)) {
			zone_out_put(o, "=", 1);
			svcb_text_value(o, key, data + pos + 4, n);
		}
		pos += 4 + n;
	}
}
