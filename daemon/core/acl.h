/*
 * acl.h - who may ask miodnsd: unbound's access-control, prefix by prefix.
 *
 * A list maps address prefixes to an action; the longest prefix that
 * contains a client's address decides (as unbound's access-control does):
 *
 *	allow	serve the query (forwarding, cache, everything)
 *	refuse	answer REFUSED
 *	deny	drop the query without an answer
 *
 * A new list already holds unbound's defaults: 127.0.0.0/8 and ::1 allow,
 * 0.0.0.0/0 and ::/0 refuse, so a daemon without any access-control line
 * serves loopback only and refuses the rest. A line for a prefix that is
 * already listed replaces its action (the last line wins), so
 * "0.0.0.0/0 allow" opens IPv4 and "127.0.0.0/8 deny" closes loopback.
 *
 * IPv4-mapped IPv6 addresses (::ffff:192.0.2.1, what a dual-stack socket
 * reports for an IPv4 client) are checked as the IPv4 address they carry,
 * and a prefix written in that form is stored as its IPv4 prefix, so one
 * rule covers a client whichever socket it came through. Addresses of
 * other families (AF_UNIX) are local and always allowed.
 *
 *	struct acl *acl;
 *	acl_new(&acl);
 *	acl_add_line(acl, "192.0.2.0/24 allow");	(once per config line)
 *	switch (acl_check(acl, (struct sockaddr *)&peer)) { ... }
 *	acl_free(acl);
 *
 * A list is read-only once built: acl_check() may be called from several
 * threads at once; building it is not thread-safe.
 */
#ifndef MIODNSD_ACL_H
#define MIODNSD_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum acl_action {
	ACL_ALLOW,
	ACL_REFUSE,
	ACL_DENY,
};

struct acl;

/* A list holding the defaults above. Returns 0 or -ENOMEM. */
int acl_new(struct acl **out);
void acl_free(struct acl *acl);

/*
 * Adds or replaces the rule for prefix, written "ADDRESS" or
 * "ADDRESS/LENGTH" (IPv4 or IPv6; bits past the length are cleared, as
 * unbound does, and counted by acl_masked()). Returns 0, -EINVAL for a
 * malformed prefix, -ENOMEM.
 */
int acl_add(struct acl *acl, const char *prefix, enum acl_action action);

/* "PREFIX ACTION", the access-control line's value. 0, -EINVAL, -ENOMEM. */
int acl_add_line(struct acl *acl, const char *line);

/* "allow", "refuse" or "deny" into *action: 0 or -EINVAL. */
int acl_parse_action(const char *word, enum acl_action *action);
const char *acl_action_name(enum acl_action action);

/* The action for a client address (see above for mapped and local ones). */
enum acl_action acl_check(const struct acl *acl, const struct sockaddr *sa);

/* How many rules were added with acl_add(); the defaults do not count. */
size_t acl_added(const struct acl *acl);
/* How many of them had host bits set past their length (cleared). */
size_t acl_masked(const struct acl *acl);

/* Whether sa is a loopback address (127/8, ::1, ::ffff:127/104) or local
 * (AF_UNIX); for the daemon's warning about non-loopback listeners. */
bool acl_is_loopback(const struct sockaddr *sa);

#endif /* MIODNSD_ACL_H */
