/*
 * t/registering.c - the registry: raw descriptors (mio's SourceFd), the
 * register/reregister/deregister state machine, clones, and argument checks.
 * Ported in spirit from mio's tests/registering.rs and parts of poll.rs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static bool
is_kqueue(void)
{
	return strcmp(mio_backend(), "kqueue") == 0;
}

static void
state_machine(void)
{
	mio_poll *poll;
	mio_events *events;
	int fds[2];

	init_with_poll(&poll, &events);
	const mio_registry *reg = mio_poll_registry(poll);
	nb_socketpair(SOCK_STREAM, fds);
	is_errno(mio_registry_register_fd(reg, fds[0], 1, MIO_READABLE), 0,
	    "register readable");
	is_errno(mio_registry_reregister_fd(reg, fds[0], 2, MIO_WRITABLE), 0,
	    "reregister writable with a new token");
	expect_events(poll, events, { 2, R_WRITABLE });
	ok(no_event_with_token(events, 1), "the old token is gone");
	is_errno(mio_registry_deregister_fd(reg, fds[0]), 0, "deregister");
	if (write(fds[1], "x", 1) != 1)
		sysbail("write");
	expect_no_events(poll, events);
	close(fds[0]);
	close(fds[1]);
	mio_events_free(events);
	mio_poll_free(poll);
}

static void
raw_fd_errors(void)
{
	mio_poll *poll;
	mio_events *events;
	int fds[2];

	init_with_poll(&poll, &events);
	const mio_registry *reg = mio_poll_registry(poll);
	nb_socketpair(SOCK_STREAM, fds);
	is_errno(mio_registry_reregister_fd(reg, fds[0], 1, MIO_READABLE),
	    is_kqueue() ? 0 : -ENOENT,
	    "reregister_fd of an unregistered fd: -ENOENT on epoll "
	    "(kqueue adds it; reregister uses EV_ADD)");
	if (is_kqueue())
		mio_registry_deregister_fd(reg, fds[0]);
	is_errno(mio_registry_deregister_fd(reg, fds[0]), -ENOENT,
	    "deregister_fd of an unregistered fd is -ENOENT");
	mio_registry_register_fd(reg, fds[0], 1, MIO_READABLE);
	/* mio documents this as unspecified; raw descriptors get the
	 * kernel's answer, owned handles get -EEXIST on every backend. */
	is_errno(mio_registry_register_fd(reg, fds[0], 2, MIO_READABLE),
	    is_kqueue() ? 0 : -EEXIST,
	    "a second register_fd: -EEXIST on epoll, a modify on kqueue");
	is_errno(mio_registry_register_fd(reg, -1, 1, MIO_READABLE), -EBADF,
	    "register_fd(-1) is -EBADF");
	is_errno(mio_registry_register_fd(reg, fds[1], 1, 0), -EINVAL,
	    "an empty interest is -EINVAL");
	is_errno(mio_registry_register_fd(reg, fds[1], 1, 0x20), -EINVAL,
	    "an unknown interest bit is -EINVAL");
	is_errno(mio_registry_reregister_fd(reg, fds[0], 1, 0), -EINVAL,
	    "reregister with an empty interest is -EINVAL");
	is_errno(mio_registry_register_fd(NULL, fds[1], 1, MIO_READABLE),
	    -EINVAL, "a NULL registry is -EINVAL");

	char path[] = "/tmp/mio-test-XXXXXX";
	int file = mkstemp(path);
	if (file == -1)
		sysbail("mkstemp");
	unlink(path);
	is_errno(mio_registry_register_fd(reg, file, 9, MIO_READABLE),
	    is_kqueue() ? 0 : -EPERM,
	    "a regular file: -EPERM on epoll, accepted on kqueue");
	close(file);
	close(fds[0]);
	close(fds[1]);
	mio_events_free(events);
	mio_poll_free(poll);
}

static void
reregister_different_interest_without_poll(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;
	struct timespec t = ms_timeout(200);

	init_with_poll(&poll, &events);
	const mio_registry *reg = mio_poll_registry(poll);
	int l = tcp_listen_loopback(AF_INET, &addr, &len);
	mio_registry_register_fd(reg, l, 1, MIO_READABLE);
	int c = tcp_connect_nb(&addr, len);
	sleep_ms(100);
	is_errno(mio_registry_reregister_fd(reg, l, 1, MIO_WRITABLE), 0,
	    "reregister the listener writable before polling");
	mio_poll_poll(poll, events, &t);
	ok(no_event_with_token(events, 1),
	    "pending readable readiness is dropped with the interest");
	close(c);
	close(l);
	mio_events_free(events);
	mio_poll_free(poll);
}

static void
registering_after_deregistering(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;

	init_with_poll(&poll, &events);
	const mio_registry *reg = mio_poll_registry(poll);
	int l = tcp_listen_loopback(AF_INET, &addr, &len);
	int rc = mio_registry_register_fd(reg, l, 1, MIO_READABLE);
	rc |= mio_registry_deregister_fd(reg, l);
	rc |= mio_registry_register_fd(reg, l, 1, MIO_READABLE);
	is_errno(rc, 0, "register, deregister, register again");
	expect_no_events(poll, events);
	int c = tcp_connect_nb(&addr, len);
	expect_events(poll, events, { 1, R_READABLE });
	close(c);
	close(l);
	mio_events_free(events);
	mio_poll_free(poll);
}

static void
clones(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_registry *clone;
	int fds[2];

	init_with_poll(&poll, &events);
	is_errno(mio_registry_try_clone(mio_poll_registry(poll), &clone), 0,
	    "try_clone");
	nb_socketpair(SOCK_STREAM, fds);
	is_errno(mio_registry_register_fd(clone, fds[0], 4, MIO_WRITABLE), 0,
	    "register through the clone");
	expect_events(poll, events, { 4, R_WRITABLE });
	/* The poll's own registry is not the caller's to free. */
	mio_registry_free((mio_registry *)mio_poll_registry(poll));
	is_errno(mio_registry_deregister_fd(mio_poll_registry(poll), fds[0]),
	    0, "the poll's registry still works after a stray free");
	mio_events_free(events);
	mio_poll_free(poll);
	is_errno(mio_registry_register_fd(clone, fds[0], 5, MIO_READABLE), 0,
	    "a clone outlives its poll");
	mio_registry_free(clone);
	mio_registry_free(NULL);

	int before = count_open_fds();
	init_with_poll(&poll, &events);
	mio_events_free(events);
	for (int i = 0; i < 1000; i++) {
		if (mio_registry_try_clone(mio_poll_registry(poll), &clone))
			bail("try_clone");
		mio_registry_free(clone);
	}
	mio_poll_free(poll);
	is_int(count_open_fds(), before, "1000 clones leak no descriptor");
	close(fds[0]);
	close(fds[1]);
}

static void
raw_fd_in_two_polls(void)
{
	mio_poll *a, *b;
	mio_events *ea, *eb;
	int fds[2];

	init_with_poll(&a, &ea);
	init_with_poll(&b, &eb);
	nb_socketpair(SOCK_STREAM, fds);
	int rc = mio_registry_register_fd(mio_poll_registry(a), fds[0], 1,
	    MIO_WRITABLE);
	rc |= mio_registry_register_fd(mio_poll_registry(b), fds[0], 2,
	    MIO_WRITABLE);
	is_errno(rc, 0, "a raw fd may be registered with two polls");
	expect_events(a, ea, { 1, R_WRITABLE });
	expect_events(b, eb, { 2, R_WRITABLE });
	close(fds[0]);
	close(fds[1]);
	mio_events_free(ea);
	mio_events_free(eb);
	mio_poll_free(a);
	mio_poll_free(b);
}

int
main(void)
{
	plan_lazy();
	diag("backend: %s", mio_backend());
	state_machine();
	raw_fd_errors();
	reregister_different_interest_without_poll();
	registering_after_deregistering();
	clones();
	raw_fd_in_two_polls();
	return 0;
}
