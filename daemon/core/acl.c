/*
 * acl.c - the access-control list: prefixes, longest match, unbound's
 * defaults.
 *
 * Every prefix is kept in the IPv6 address space, IPv4 ones as IPv4-mapped
 * addresses (::ffff:0:0/96 plus the IPv4 length), so one comparison serves
 * both families and a mapped client matches its IPv4 rules for free. The
 * rules are kept sorted longest first, so the first rule that contains an
 * address is the longest match. Lists are short (a handful of lines, as in
 * unbound configurations), so a linear scan beats a trie here. Each rule
 * also keeps its prefix and mask as two 64-bit words (in memory order, so
 * byte order does not matter to AND and compare), and a check costs two
 * ANDs and two compares per rule: about 30 instructions for a loopback
 * client against the defaults, on every query including cache hits.
 *
 * A prefix with host bits set past its length (10.0.0.1/8) is taken with
 * them cleared, as unbound does, and counted (acl_masked()) so that the
 * configuration can warn; it was refused with a message that did not say
 * why (review finding 12).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

struct acl_rule {
	uint8_t addr[16];	/* the prefix, host bits zero */
	unsigned bits;		/* 0..128, in the IPv6 space */
	enum acl_action action;
	uint64_t word[2], mask[2];	/* addr and its mask, as words */
};

struct acl {
	struct acl_rule *rules;	/* sorted by bits, longest first */
	size_t count, capacity;
	size_t added;
	size_t masked;		/* prefixes whose host bits were cleared */
};

static const uint8_t acl_v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0xff, 0xff };

static void
acl_map_v4(uint8_t out[16], const void *v4)
{
	memcpy(out, acl_v4_mapped, 12);
	memcpy(out + 12, v4, 4);
}

/* Clears the bits of addr past bits; whether any was set. */
static bool
acl_clear_host_bits(uint8_t addr[16], unsigned bits)
{
	bool was_set = false;

	for (unsigned i = bits; i < 128; i++) {
		uint8_t bit = (uint8_t)(0x80 >> (i % 8));

		was_set |= (addr[i / 8] & bit) != 0;
		addr[i / 8] &= (uint8_t)~bit;
	}
	return was_set;
}

static void
acl_rule_set(struct acl_rule *rule, const uint8_t addr[16], unsigned bits,
    enum acl_action action)
{
	uint8_t mask[16] = { 0 };

	for (unsigned i = 0; i < bits; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	memcpy(rule->addr, addr, 16);
	memcpy(rule->word, addr, 16);
	memcpy(rule->mask, mask, 16);
	rule->bits = bits;
	rule->action = action;
}

/* Inserts or replaces, keeping the longest-first order. */
static int
acl_put(struct acl *acl, const uint8_t addr[16], unsigned bits,
    enum acl_action action)
{
	size_t at;

	for (at = 0; at < acl->count && acl->rules[at].bits >= bits; at++) {
		if (acl->rules[at].bits == bits &&
		    memcmp(acl->rules[at].addr, addr, 16) == 0) {
			acl->rules[at].action = action;
			return 0;
		}
	}
	if (acl->count == acl->capacity) {
		size_t capacity = acl->capacity ? acl->capacity * 2 : 8;
		struct acl_rule *rules = realloc(acl->rules,
		    capacity * sizeof(*rules));

		if (rules == NULL)
			return -ENOMEM;
		acl->rules = rules;
		acl->capacity = capacity;
	}
	memmove(&acl->rules[at + 1], &acl->rules[at],
	    (acl->count - at) * sizeof(*acl->rules));
	acl_rule_set(&acl->rules[at], addr, bits, action);
	acl->count++;
	return 0;
}

/* "ADDRESS[/LENGTH]" into the IPv6 space, host bits cleared (*masked
 * says whether there were any). */
static int
acl_parse_prefix(const char *text, uint8_t addr[16], unsigned *bits,
    bool *masked)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	uint8_t v4[4];
	unsigned long length;
	bool is_v4;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, v4) == 1) {
		acl_map_v4(addr, v4);
		is_v4 = true;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		is_v4 = false;
	} else {
		return -EINVAL;
	}
	length = is_v4 ? 32 : 128;
	if (slash != NULL) {
		if (!isdigit((unsigned char)*slash))
			return -EINVAL;
		errno = 0;
		length = strtoul(slash, &end, 10);
		if (*end != '\0' || errno != 0 || length > (is_v4 ? 32u : 128u))
			return -EINVAL;
	}
	*bits = (unsigned)length + (is_v4 ? 96 : 0);
	*masked = acl_clear_host_bits(addr, *bits);
	return 0;
}

int
acl_add(struct acl *acl, const char *prefix, enum acl_action action)
{
	uint8_t addr[16];
	unsigned bits;
	bool masked;
	int rc;

	if (action != ACL_ALLOW && action != ACL_REFUSE && action != ACL_DENY)
		return -EINVAL;
	if ((rc = acl_parse_prefix(prefix, addr, &bits, &masked)) != 0)
		return rc;
	if ((rc = acl_put(acl, addr, bits, action)) == 0) {
		acl->added++;
		acl->masked += masked;
	}
	return rc;
}

int
acl_new(struct acl **out)
{
	static const struct {
		const char *prefix;
		enum acl_action action;
	} defaults[] = {
		{ "0.0.0.0/0", ACL_REFUSE },
		{ "::/0", ACL_REFUSE },
		{ "127.0.0.0/8", ACL_ALLOW },
		{ "::1", ACL_ALLOW },
	};
	struct acl *acl = calloc(1, sizeof(*acl));

	if (acl == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		if (acl_add(acl, defaults[i].prefix, defaults[i].action) != 0) {
			acl_free(acl);
			return -ENOMEM;
		}
	}
	acl->added = 0;
	*out = acl;
	return 0;
}

void
acl_free(struct acl *acl)
{
	if (acl == NULL)
		return;
	free(acl->rules);
	free(acl);
}

int
acl_parse_action(const char *word, enum acl_action *action)
{
	if (strcmp(word, "allow") == 0)
		*action = ACL_ALLOW;
	else if (strcmp(word, "refuse") == 0)
		*action = ACL_REFUSE;
	else if (strcmp(word, "deny") == 0)
		*action = ACL_DENY;
	else
		return -EINVAL;
	return 0;
}

const char *
acl_action_name(enum acl_action action)
{
	switch (action) {
	case ACL_ALLOW:
		return "allow";
	case ACL_REFUSE:
		return "refuse";
	case ACL_DENY:
		return "deny";
	}
	return "?";
}

int
acl_add_line(struct acl *acl, const char *line)
{
	char prefix[INET6_ADDRSTRLEN + 8], word[16], extra[2];
	enum acl_action action;

	/* The widths keep sscanf inside the buffers; a longer prefix or
	 * word is cut and then fails to parse, as it should. */
	if (sscanf(line, "%53s %15s %1s", prefix, word, extra) != 2)
		return -EINVAL;
	if (acl_parse_action(word, &action) != 0)
		return -EINVAL;
	return acl_add(acl, prefix, action);
}

/* The client's address in the IPv6 space; false for other families. */
static bool
acl_client_addr(const struct sockaddr *sa, uint8_t addr[16])
{
	if (sa->sa_family == AF_INET) {
		acl_map_v4(addr,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(addr,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    16);
		return true;
	}
	return false;
}

enum acl_action
acl_check(const struct acl *acl, const struct sockaddr *sa)
{
	uint8_t addr[16];
	uint64_t word[2];

	if (!acl_client_addr(sa, addr))
		return ACL_ALLOW;
	memcpy(word, addr, 16);
	for (size_t i = 0; i < acl->count; i++) {
		const struct acl_rule *rule = &acl->rules[i];
		if ((word[0] & rule->mask[0]) == rule->word[0] &&
		    (word[1] & rule->mask[1]) == rule->word[1])
			return rule->action;
	}
	/* Unreachable while the /0 defaults exist; refusing is the safe
	 * answer should that ever change. */
	return ACL_REFUSE;
}

size_t
acl_masked(const struct acl *acl)
{
	return acl->masked;
}

size_t
acl_added(const struct acl *acl)
{
	return acl->added;
}

/* Called for every UDP answer (rate limiting exempts loopback), hence the
 * direct tests. */
bool
acl_is_loopback(const struct sockaddr *sa)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };
	const uint8_t *a;

	if (sa->sa_family == AF_INET)
		return ((const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr)[0] == 127;
	if (sa->sa_family != AF_INET6)
		return true;
	a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (memcmp(a, acl_v4_mapped, 12) == 0)
		return a[12] == 127;
	return memcmp(a, v6_loopback, 16) == 0;
}
