/*
 * t/source.c - custom sources through mio_source_ops: the registry calls
 * each hook exactly once with its own arguments and returns the result
 * verbatim. Ported in spirit from mio's poll_registration and
 * poll_erroneous_registration, plus a composite source of two descriptors.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static bool
is_kqueue(void)
{
	return strcmp(mio_backend(), "kqueue") == 0;
}

struct recording_source {
	mio_source base;
	int calls[3];
	const mio_registry *registry;
	mio_token token;
	mio_interest interest;
	int result;
};

static struct recording_source *
recording(mio_source *source)
{
	return (struct recording_source *)source;
}

static int
rec_register(mio_source *source, const mio_registry *registry,
    mio_token token, mio_interest interest)
{
	struct recording_source *s = recording(source);

	s->calls[0]++;
	s->registry = registry;
	s->token = token;
	s->interest = interest;
	return s->result;
}

static int
rec_reregister(mio_source *source, const mio_registry *registry,
    mio_token token, mio_interest interest)
{
	struct recording_source *s = recording(source);

	s->calls[1]++;
	s->registry = registry;
	s->token = token;
	s->interest = interest;
	return s->result;
}

static int
rec_deregister(mio_source *source, const mio_registry *registry)
{
	struct recording_source *s = recording(source);

	s->calls[2]++;
	s->registry = registry;
	return s->result;
}

static const mio_source_ops recording_ops = {
	.register_source = rec_register,
	.reregister_source = rec_reregister,
	.deregister_source = rec_deregister,
};

static void
poll_registration(void)
{
	mio_poll *poll;
	mio_events *events;
	struct recording_source s = { .base.ops = &recording_ops };

	init_with_poll(&poll, &events);
	const mio_registry *reg = mio_poll_registry(poll);
	is_errno(mio_registry_register(reg, &s.base, 123, MIO_READABLE), 0,
	    "register a custom source");
	ok(s.calls[0] == 1 && s.registry == reg && s.token == 123 &&
	    s.interest == MIO_READABLE,
	    "register_source ran once with the registry, token and interest");
	is_errno(mio_registry_reregister(reg, &s.base, 456, MIO_WRITABLE), 0,
	    "reregister it");
	ok(s.calls[1] == 1 && s.token == 456 && s.interest == MIO_WRITABLE,
	    "reregister_source ran once with the new token and interest");
	is_errno(mio_registry_deregister(reg, &s.base), 0, "deregister it");
	ok(s.calls[0] == 1 && s.calls[1] == 1 && s.calls[2] == 1 &&
	    s.registry == reg, "deregister_source ran once");
	mio_events_free(events);
	free_poll(poll);
}

static void
poll_erroneous_registration(void)
{
	mio_poll *poll;
	mio_events *events;
	struct recording_source s = { .base.ops = &recording_ops,
		.result = -ENOTSUP };

	init_with_poll(&poll, &events);
	const mio_registry *reg = mio_poll_registry(poll);
	is_errno(mio_registry_register(reg, &s.base, 1, MIO_READABLE),
	    -ENOTSUP, "register returns the hook's error verbatim");
	is_errno(mio_registry_reregister(reg, &s.base, 1, MIO_READABLE),
	    -ENOTSUP, "so does reregister");
	is_errno(mio_registry_deregister(reg, &s.base), -ENOTSUP,
	    "and deregister");
	s.result = 7;
	is_int(mio_registry_register(reg, &s.base, 1, MIO_READABLE), 7,
	    "even a positive result comes back unchanged");

	int before = s.calls[0];
	is_errno(mio_registry_register(reg, &s.base, 1, 0), -EINVAL,
	    "an empty interest is -EINVAL");
	is_int(s.calls[0], before, "without calling the hook");
	struct recording_source no_ops = { .base.ops = NULL };
	is_errno(mio_registry_register(reg, &no_ops.base, 1, MIO_READABLE),
	    -EINVAL, "a source without ops is -EINVAL");
	is_errno(mio_registry_register(reg, NULL, 1, MIO_READABLE), -EINVAL,
	    "a NULL source is -EINVAL");
	mio_events_free(events);
	free_poll(poll);
}

/* A source made of two descriptors that share one token. */
struct pair_source {
	mio_source base;
	int fds[2];
};

static int
pair_register(mio_source *source, const mio_registry *registry,
    mio_token token, mio_interest interest)
{
	struct pair_source *p = (struct pair_source *)source;
	int rc = mio_registry_register_fd(registry, p->fds[0], token,
	    interest);

	if (rc == 0) {
		rc = mio_registry_register_fd(registry, p->fds[1], token,
		    interest);
		if (rc != 0)
			mio_registry_deregister_fd(registry, p->fds[0]);
	}
	return rc;
}

static int
pair_reregister(mio_source *source, const mio_registry *registry,
    mio_token token, mio_interest interest)
{
	struct pair_source *p = (struct pair_source *)source;
	int rc = mio_registry_reregister_fd(registry, p->fds[0], token,
	    interest);

	return rc != 0 ? rc :
	    mio_registry_reregister_fd(registry, p->fds[1], token, interest);
}

static int
pair_deregister(mio_source *source, const mio_registry *registry)
{
	struct pair_source *p = (struct pair_source *)source;
	int rc = mio_registry_deregister_fd(registry, p->fds[0]);
	int rc2 = mio_registry_deregister_fd(registry, p->fds[1]);

	return rc != 0 ? rc : rc2;
}

static const mio_source_ops pair_ops = {
	.register_source = pair_register,
	.reregister_source = pair_reregister,
	.deregister_source = pair_deregister,
};

static void
composite_source(void)
{
	mio_poll *poll;
	mio_events *events;
	int a[2], b[2];

	init_with_poll(&poll, &events);
	const mio_registry *reg = mio_poll_registry(poll);
	nb_socketpair(SOCK_STREAM, a);
	nb_socketpair(SOCK_STREAM, b);
	struct pair_source p = { .base.ops = &pair_ops, .fds = { a[0], b[0] } };
	is_errno(mio_registry_register(reg, &p.base, 5, MIO_READABLE), 0,
	    "register a two-descriptor source");
	if (write(b[1], "x", 1) != 1)
		sysbail("write");
	expect_events(poll, events, { 5, R_READABLE });
	is_errno(mio_registry_reregister(reg, &p.base, 6, MIO_WRITABLE), 0,
	    "reregister it");
	expect_events(poll, events, { 6, R_WRITABLE });
	is_errno(mio_registry_deregister(reg, &p.base), 0, "deregister it");
	if (write(a[1], "y", 1) != 1)
		sysbail("write");
	expect_no_events(poll, events);
	is_errno(mio_registry_register(reg, &p.base, 7, MIO_READABLE), 0,
	    "register it again");
	/*
	 * The hook registers raw descriptors, which get the kernel's answer:
	 * EEXIST from epoll, while kqueue's EV_ADD modifies the filters.
	 */
	is_errno(mio_registry_register(reg, &p.base, 7, MIO_READABLE),
	    is_kqueue() ? 0 : -EEXIST,
	    "a second register surfaces the hook's result: -EEXIST on "
	    "epoll, 0 on kqueue (EV_ADD modifies)");
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	mio_events_free(events);
	free_poll(poll);
}

int
main(void)
{
	plan_lazy();
	poll_registration();
	poll_erroneous_registration();
	composite_source();
	return 0;
}
