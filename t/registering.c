/*
 * t/registering.c - the registry: raw descriptors (mio's SourceFd), the
 * register/reregister/deregister state machine, clones, and argument checks.
 * Ported in spirit from mio's tests/registering.rs and parts of poll.rs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	free_poll(poll);
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
	/*
	 * mio's kqueue deregister ignores ENOENT (kqueue.rs, deregister), so
	 * a descriptor that was never registered deregisters fine there.
	 */
	is_errno(mio_registry_deregister_fd(reg, fds[0]),
	    is_kqueue() ? 0 : -ENOENT,
	    "deregister_fd of an unregistered fd: -ENOENT on epoll, 0 on "
	    "kqueue (mio ignores ENOENT there)");
	mio_registry_register_fd(reg, fds[0], 1, MIO_READABLE);
	/* mio documents this as unspecified; raw descriptors get the
	 * kernel's answer, owned handles get -EEXIST on every backend. */
	is_errno(mio_registry_register_fd(reg, fds[0], 2, MIO_READABLE),
	    is_kqueue() ? 0 : -EEXIST,
	    "a second register_fd: -EEXIST on epoll, a modify on kqueue");
	/*
	 * libkqueue turns every failure to create a knote into EFAULT
	 * (src/common/kevent.c, kevent_copyin_one, v2.7.0); native kqueue
	 * answers EBADF in the receipt.
	 */
	int rc = mio_registry_register_fd(reg, -1, 1, MIO_READABLE);
	if (is_libkqueue() && rc == -EFAULT)
		ok(true, "register_fd(-1) fails: -EFAULT from libkqueue "
		    "(native kqueue and epoll: -EBADF)");
	else
		is_errno(rc, -EBADF, "register_fd(-1) is -EBADF");
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
	free_poll(poll);
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
	free_poll(poll);
}

/*
 * A reregister re-evaluates readiness: epoll's EPOLL_CTL_MOD and native
 * kqueue's EV_ADD on an existing filter (FreeBSD's kqueue_register() runs
 * the filter's f_event after the change) report a source that is still
 * ready, with the new token, although its edge was already consumed.
 * libkqueue only updates the knote, so nothing comes until the next edge.
 */
static void
reregister_reports_current_readiness(void)
{
	mio_poll *poll;
	mio_events *events;
	int fds[2];

	init_with_poll(&poll, &events);
	const mio_registry *reg = mio_poll_registry(poll);
	nb_socketpair(SOCK_STREAM, fds);
	mio_registry_register_fd(reg, fds[0], 1, MIO_WRITABLE);
	expect_events(poll, events, { 1, R_WRITABLE });
	is_errno(mio_registry_reregister_fd(reg, fds[0], 2, MIO_WRITABLE), 0,
	    "reregister a ready source with a new token");
	if (is_libkqueue()) {
		struct timespec t = ms_timeout(100);
		mio_poll_poll(poll, events, &t);
		skip(1, "libkqueue does not re-evaluate a modified knote, so "
		    "no event comes until the next edge");
	} else {
		expect_events(poll, events, { 2, R_WRITABLE });
	}
	ok(no_event_with_token(events, 1), "nothing with the old token");
	close(fds[0]);
	close(fds[1]);
	mio_events_free(events);
	free_poll(poll);
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
	free_poll(poll);
}

/*
 * A clone is the poll's own selector descriptor behind a second handle,
 * reference-counted, not a dup() of it: libkqueue finds a kqueue only by the
 * number kqueue() returned (src/common/kqueue.c, kqueue_lookup()) and
 * answered ENOENT through a duplicate. Everything here runs on every
 * backend.
 */
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
	is_errno(mio_registry_register_fd(clone, fds[1], 6, MIO_READABLE), 0,
	    "register through the clone again");
	mio_registry_free(clone);
	if (write(fds[0], "x", 1) != 1)
		sysbail("write");
	expect_events(poll, events, { 6, R_READABLE });
	is_errno(mio_registry_deregister_fd(mio_poll_registry(poll), fds[1]),
	    0, "freeing the clone left the poll's selector open");
	mio_registry_free(NULL);
	mio_events_free(events);
	free_poll(poll);
	close(fds[0]);
	close(fds[1]);
}

/* The poll freed first: the clone keeps the selector open, the last one
 * freed closes it. */
static void
clone_outlives_poll(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_registry *clone, *second;
	struct kqueue_note note;
	int fds[2];

	nb_socketpair(SOCK_STREAM, fds);
	int before = count_open_fds();
	init_with_poll(&poll, &events);
	mio_events_free(events);
	if (mio_registry_try_clone(mio_poll_registry(poll), &clone) != 0)
		bail("try_clone");
	int selector = mio_poll_fd(poll);
	kqueue_note(selector, &note);
	mio_poll_free(poll);
	ok(fcntl(selector, F_GETFD) != -1,
	    "the selector stays open while a clone lives");
	is_errno(mio_registry_register_fd(clone, fds[0], 5, MIO_READABLE), 0,
	    "a clone outlives its poll");
	is_errno(mio_registry_try_clone(clone, &second), 0,
	    "and can be cloned after it");
	mio_registry_free(clone);
	is_errno(mio_registry_deregister_fd(second, fds[0]), 0,
	    "the clone of a clone outlives the first");
	mio_registry_free(second);
	kqueue_wait_released(&note);
	is_fd_count(before, "the last clone freed closes the selector");
	close(fds[0]);
	close(fds[1]);
}

static void
clone_descriptors(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_registry *clone;

	int before = count_open_fds();
	init_with_poll(&poll, &events);
	mio_events_free(events);
	int with_poll = count_open_fds();
	if (mio_registry_try_clone(mio_poll_registry(poll), &clone))
		bail("try_clone");
	is_int(count_open_fds(), with_poll, "a clone opens no descriptor");
	mio_registry_free(clone);
	for (int i = 0; i < 1000; i++) {
		if (mio_registry_try_clone(mio_poll_registry(poll), &clone))
			bail("try_clone");
		mio_registry_free(clone);
	}
	is_int(count_open_fds(), with_poll,
	    "1000 clones freed while the poll lives close nothing");
	free_poll(poll);
	is_fd_count(before, "1000 clones leak no descriptor");
}

struct polling_thread {
	mio_poll *poll;
	mio_events *events;
	int started[2]; /* A pipe: written once the thread is about to poll. */
	int n;
	long long waited_ms;
};

static void *
polling_thread_run(void *arg)
{
	struct polling_thread *p = arg;
	struct timespec timeout = ms_timeout(10000);

	if (write(p->started[1], "x", 1) != 1)
		p->n = -EIO;
	long long t0 = now_ms();
	p->n = mio_poll_poll(p->poll, p->events, &timeout);
	p->waited_ms = now_ms() - t0;
	return NULL;
}

/*
 * The case that failed over libkqueue while clones held a dup(): a source
 * registered through a clone while another thread waits in the poll must
 * wake that wait (mio's Registry is Send and Sync for this).
 */
static void
clone_wakes_polling_thread(void)
{
	struct polling_thread p = { 0 };
	mio_registry *clone;
	pthread_t thr;
	char byte;
	int fds[2];

	init_with_poll(&p.poll, &p.events);
	if (mio_registry_try_clone(mio_poll_registry(p.poll), &clone) != 0)
		bail("try_clone");
	nb_socketpair(SOCK_STREAM, fds);
	if (pipe(p.started) == -1)
		sysbail("pipe");
	if (pthread_create(&thr, NULL, polling_thread_run, &p) != 0)
		bail("pthread_create");
	if (read(p.started[0], &byte, 1) != 1)
		sysbail("read");
	/* Not synchronisation: the assertions hold either way. 50 ms makes
	 * it likely that the thread is inside the kernel's wait. */
	nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	is_errno(mio_registry_register_fd(clone, fds[0], 9, MIO_WRITABLE), 0,
	    "register through a clone while another thread polls");
	pthread_join(thr, NULL);
	ok(p.n >= 1 && !no_event_with_token(p.events, 9),
	    "the polling thread is woken with the clone's token "
	    "(%d event(s) after %lld ms; 10000 ms is the timeout)",
	    p.n, p.waited_ms);
	mio_registry_deregister_fd(clone, fds[0]);
	mio_registry_free(clone);
	mio_events_free(p.events);
	free_poll(p.poll);
	close(fds[0]);
	close(fds[1]);
	close(p.started[0]);
	close(p.started[1]);
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
	free_poll(a);
	free_poll(b);
}

int
main(void)
{
	plan_lazy();
	diag("backend: %s", mio_backend());
	state_machine();
	raw_fd_errors();
	reregister_different_interest_without_poll();
	reregister_reports_current_readiness();
	registering_after_deregistering();
	clones();
	clone_outlives_poll();
	clone_descriptors();
	clone_wakes_polling_thread();
	raw_fd_in_two_polls();
	return 0;
}
