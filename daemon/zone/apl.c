/*
 * apl.c - APL records (RFC 3123): lists of address prefixes written
 * "1:192.0.2.0/24 !2:2001:db8::/32", to wire format and back.
 *
 * Each item is the address family (1 IPv4, 2 IPv6), the prefix length, a
 * negation bit with the length of the address part, and the address with
 * its trailing zero octets left out (section 4.1). Wire data with other
 * families or with trailing zeros is refused, since its text would not
 * read back into the same octets. An APL may hold no item at all.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* The address length of a family, or 0 for one this file does not know. */
static size_t
apl_family_len(uint16_t family)
{
	return family == 1 ? 4 : family == 2 ? 16 : 0;
}

bool
zone_apl_wire_ok(const uint8_t *data, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		size_t max, n;

		if (len - pos < 4)
			return false;
		max = apl_family_len((uint16_t)(data[pos] << 8 | data[pos + 1]));
		n = data[pos + 3] & 0x7f;
		if (max == 0 || data[pos + 2] > 8 * max || n > max ||
		    n > len - pos - 4 || (n > 0 && data[pos + 3 + n] == 0))
			return false;
		pos += 4 + n;
	}
	return true;
}

/* ---- text to wire -------------------------------------------------------- */

static int
apl_fail(struct zone_fields *f, const struct zone_token *tok)
{
	char shown[64];

	return zone_fail(f->b, -EINVAL, f->src->file, tok->line,
	    "bad APL item '%s' ([!]family:address/prefix)",
	    zone_token_show(f->src, tok, shown, sizeof(shown)));
}

/* One "[!]afi:address/prefix" field. */
static int
apl_item(struct zone_fields *f, const struct zone_token *tok)
{
	char text[64], *colon, *slash;
	uint8_t out[4 + 16];
	unsigned prefix = 0;
	size_t n, max;
	bool negated;
	int family;

	if (tok->quoted || tok->len >= sizeof(text))
		return apl_fail(f, tok);
	memcpy(text, zone_token_text(f->src, tok), tok->len);
	text[tok->len] = '\0';
	negated = text[0] == '!';
	colon = strchr(text, ':');
	slash = strrchr(text, '/');
	if (colon == NULL || slash == NULL || slash < colon)
		return apl_fail(f, tok);
	*colon = *slash = '\0';
	family = strcmp(text + negated, "1") == 0 ? 1
	    : strcmp(text + negated, "2") == 0    ? 2
	                                          : 0;
	max = apl_family_len((uint16_t)family);
	if (max == 0 || sscanf(slash + 1, "%3u", &prefix) != 1 ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
	    prefix > 8 * max ||
	    inet_pton(family == 1 ? AF_INET : AF_INET6, colon + 1, out + 4) != 1)
		return apl_fail(f, tok);
	for (n = max; n > 0 && out[3 + n] == 0; n--)
		;
	out[0] = 0;
	out[1] = (uint8_t)family;
	out[2] = (uint8_t)prefix;
	out[3] = (uint8_t)((negated ? 0x80 : 0) | n);
	return zone_fields_put(f, out, 4 + n);
}

int
zone_apl_parse(struct zone_fields *f)
{
	int rc;

	while (f->next < f->end)
		if ((rc = apl_item(f, &f->b->tokens[f->next++])) < 0)
			return rc;
	return 0;
}

/* ---- wire to text -------------------------------------------------------- */

void
zone_apl_text(struct zone_out *o, const uint8_t *data, size_t len)
{
	for (size_t pos = 0; pos + 4 <= len;) {
		uint8_t address[16] = {0};
		char buf[INET6_ADDRSTRLEN];
		int family = data[pos + 1];
		size_t n = data[pos + 3] & 0x7f;

		memcpy(address, data + pos + 4, n);
		inet_ntop(family == 1 ? AF_INET : AF_INET6, address, buf,
		    sizeof(buf));
		zone_out_printf(o, "%s%s%d:%s/%u", pos > 0 ? " " : "",
		    data[pos + 3] & 0x80 ? "!" : "", family, buf, data[pos + 2]);
		pos += 4 + n;
	}
}
