/*
 * t/acl.c - miodnsd's access-control list (daemon/core/acl.c), compiled in
 * directly: unbound's defaults (loopback allowed, the rest refused), the
 * longest prefix winning whatever the order of the lines, the last line
 * for a prefix winning, IPv4-mapped clients and rules, local (AF_UNIX)
 * clients, malformed lines, and the loopback test behind the daemon's
 * start-up warning.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "acl.h"
#include "tap.h"

/* A client address from text, IPv4 or IPv6, as a socket would report it. */
static const struct sockaddr *
client(const char *text)
{
	static struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(5353);
	} else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(5353);
	} else {
		bail("bad test address %s", text);
	}
	return (const struct sockaddr *)&ss;
}

#define is_action(acl, addr, want) \
	is_string(acl_action_name(acl_check((acl), client(addr))), \
	    acl_action_name(want), "%s is %s", (addr), acl_action_name(want))

static struct acl *
fresh(void)
{
	struct acl *acl;

	if (acl_new(&acl) != 0)
		bail("acl_new failed");
	return acl;
}

static void
test_defaults(void)
{
	struct acl *acl = fresh();

	is_action(acl, "127.0.0.1", ACL_ALLOW);
	is_action(acl, "127.255.0.9", ACL_ALLOW);
	is_action(acl, "::1", ACL_ALLOW);
	is_action(acl, "::ffff:127.0.0.1", ACL_ALLOW);
	is_action(acl, "192.0.2.1", ACL_REFUSE);
	is_action(acl, "10.0.0.1", ACL_REFUSE);
	is_action(acl, "128.0.0.1", ACL_REFUSE);
	is_action(acl, "2001:db8::1", ACL_REFUSE);
	is_action(acl, "::2", ACL_REFUSE);
	is_action(acl, "::ffff:192.0.2.1", ACL_REFUSE);
	is_int(acl_added(acl), 0, "the defaults are not counted as lines");
	acl_free(acl);
}

static void
test_longest_prefix(void)
{
	struct acl *acl = fresh();

	/* Written shortest-last and longest-first, out of order on purpose. */
	is_int(acl_add_line(acl, "192.0.2.128/25 deny"), 0, "a /25 line");
	is_int(acl_add_line(acl, "192.0.2.0/24 allow"), 0, "a /24 line");
	is_int(acl_add_line(acl, "192.0.2.200/32 allow"), 0, "a /32 line");
	is_int(acl_add_line(acl, "2001:db8::/32   refuse"), 0, "a v6 /32");
	is_int(acl_add_line(acl, "2001:db8:1::/48 allow"), 0, "a v6 /48");
	is_int(acl_add_line(acl, "2001:db8:1:2::/64 deny "), 0, "a v6 /64");
	is_action(acl, "192.0.2.1", ACL_ALLOW);
	is_action(acl, "192.0.2.127", ACL_ALLOW);
	is_action(acl, "192.0.2.128", ACL_DENY);
	is_action(acl, "192.0.2.255", ACL_DENY);
	is_action(acl, "192.0.2.200", ACL_ALLOW);
	is_action(acl, "192.0.3.1", ACL_REFUSE);
	is_action(acl, "::ffff:192.0.2.5", ACL_ALLOW);
	is_action(acl, "::ffff:192.0.2.130", ACL_DENY);
	is_action(acl, "2001:db8::5", ACL_REFUSE);
	is_action(acl, "2001:db8:1::5", ACL_ALLOW);
	is_action(acl, "2001:db8:1:2::5", ACL_DENY);
	is_action(acl, "2001:db8:1:3::5", ACL_ALLOW);
	is_action(acl, "2001:db9::1", ACL_REFUSE);
	is_action(acl, "127.0.0.1", ACL_ALLOW);
	is_int(acl_added(acl), 6, "six lines added");
	acl_free(acl);
}

/* A prefix that does not fall on a byte boundary is matched bit by bit. */
static void
test_odd_lengths(void)
{
	struct acl *acl = fresh();

	is_int(acl_add(acl, "198.51.100.96/27", ACL_ALLOW), 0, "a /27");
	is_action(acl, "198.51.100.95", ACL_REFUSE);
	is_action(acl, "198.51.100.96", ACL_ALLOW);
	is_action(acl, "198.51.100.127", ACL_ALLOW);
	is_action(acl, "198.51.100.128", ACL_REFUSE);
	is_int(acl_add(acl, "2001:db8:8000::/33", ACL_DENY), 0, "a v6 /33");
	is_action(acl, "2001:db8:7fff::1", ACL_REFUSE);
	is_action(acl, "2001:db8:8000::1", ACL_DENY);
	is_action(acl, "2001:db8:ffff::1", ACL_DENY);
	acl_free(acl);
}

/* The last line for a prefix wins, and the defaults can be overridden. */
static void
test_replace_and_override(void)
{
	struct acl *acl = fresh();

	is_int(acl_add_line(acl, "0.0.0.0/0 allow"), 0, "0.0.0.0/0 allow");
	is_action(acl, "203.0.113.9", ACL_ALLOW);
	is_action(acl, "2001:db8::1", ACL_REFUSE);
	is_int(acl_add_line(acl, "0.0.0.0/0 deny"), 0, "0.0.0.0/0 deny");
	is_action(acl, "203.0.113.9", ACL_DENY);
	is_int(acl_add_line(acl, "127.0.0.0/8 refuse"), 0, "loopback refused");
	is_action(acl, "127.0.0.1", ACL_REFUSE);
	is_action(acl, "::1", ACL_ALLOW);
	is_int(acl_add_line(acl, "::0/0 allow"), 0, "::0/0 allow");
	is_action(acl, "2001:db8::1", ACL_ALLOW);
	/* A rule in mapped form is the IPv4 rule. */
	is_int(acl_add_line(acl, "::ffff:203.0.113.0/120 allow"), 0,
	    "a mapped /120");
	is_action(acl, "203.0.113.9", ACL_ALLOW);
	is_action(acl, "203.0.114.9", ACL_DENY);
	acl_free(acl);
}

/* Review finding 12: host bits past the length are cleared, as unbound
 * does, and counted so that the configuration can warn. */
static void
test_host_bits(void)
{
	struct acl *acl = fresh();

	is_int(acl_add_line(acl, "10.0.0.1/8 allow"), 0,
	    "10.0.0.1/8 taken");
	is_action(acl, "10.200.3.4", ACL_ALLOW);
	is_int(acl_add_line(acl, "2001:db8::1/32 deny"), 0,
	    "2001:db8::1/32 taken");
	is_action(acl, "2001:db8:ffff::9", ACL_DENY);
	is_int(acl_masked(acl), 2, "both counted as masked");
	is_int(acl_add_line(acl, "192.0.2.0/24 refuse"), 0, "192.0.2.0/24");
	is_int(acl_masked(acl), 2, "a clean prefix is not counted");
	acl_free(acl);
}

static void
test_malformed(void)
{
	static const char *bad[] = {
		"", "192.0.2.0/24", "192.0.2.0/24 permit", "192.0.2.0/33 allow",
		"2001:db8::/129 allow", "192.0.2.0/ allow", "192.0.2.0/-1 allow",
		"192.0.2.0/24x allow", "example.test allow",
		"192.0.2.0/24 allow extra", "192.0.2.0/+8 allow",
		"0000:0000:0000:0000:0000:0000:0000:0000:0000/0 allow",
	};
	struct acl *acl = fresh();
	enum acl_action action;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(acl_add_line(acl, bad[i]), -EINVAL, "rejected: \"%s\"",
		    bad[i]);
	is_int(acl_added(acl), 0, "nothing was added");
	is_action(acl, "192.0.2.1", ACL_REFUSE);
	is_int(acl_add(acl, "192.0.2.0/24", (enum acl_action)7), -EINVAL,
	    "an unknown action is rejected");
	is_int(acl_parse_action("deny", &action), 0, "deny parses");
	is_int(action, ACL_DENY, "as ACL_DENY");
	is_int(acl_parse_action("Allow", &action), -EINVAL,
	    "actions are lower case, as in unbound");
	acl_free(acl);
}

static void
test_local_and_loopback(void)
{
	struct acl *acl = fresh();
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	is_int(acl_add_line(acl, "0.0.0.0/0 deny"), 0, "IPv4 denied");
	is_int(acl_add_line(acl, "::/0 deny"), 0, "IPv6 denied");
	is_action(acl, "192.0.2.1", ACL_DENY);
	is_int(acl_check(acl, (const struct sockaddr *)&sun), ACL_ALLOW,
	    "a local (AF_UNIX) client is allowed");
	ok(acl_is_loopback(client("127.0.0.1")), "127.0.0.1 is loopback");
	ok(acl_is_loopback(client("127.1.2.3")), "127.1.2.3 is loopback");
	ok(acl_is_loopback(client("::1")), "::1 is loopback");
	ok(acl_is_loopback(client("::ffff:127.0.0.1")),
	    "::ffff:127.0.0.1 is loopback");
	ok(!acl_is_loopback(client("0.0.0.0")), "0.0.0.0 is not loopback");
	ok(!acl_is_loopback(client("::")), ":: is not loopback");
	ok(!acl_is_loopback(client("192.0.2.1")), "192.0.2.1 is not");
	ok(!acl_is_loopback(client("128.0.0.1")), "128.0.0.1 is not");
	ok(!acl_is_loopback(client("::2")), "::2 is not");
	acl_free(acl);
}

int
main(void)
{
	plan_lazy();
	test_defaults();
	test_longest_prefix();
	test_odd_lengths();
	test_replace_and_override();
	test_host_bits();
	test_malformed();
	test_local_and_loopback();
	acl_free(NULL);
	return tap_failures() != 0;
}
