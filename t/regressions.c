/*
 * t/regressions.c - bugs mio fixed, kept fixed here. Ported in spirit from
 * mio's tests/regressions.rs, on plain sockets.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "util.h"

struct wake_later {
	mio_waker *waker;
	long delay_ms;
};

static void *
wake_thread(void *arg)
{
	struct wake_later *w = arg;

	sleep_ms(w->delay_ms);
	mio_waker_wake(w->waker);
	return NULL;
}

/*
 * mio issue 1205: a listener deregistered after a connection arrived must
 * not wake a later poll; only the waker may.
 */
static void
issue_1205(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_waker *waker;
	struct sockaddr_storage addr;
	socklen_t len;
	pthread_t thr;

	init_with_poll(&poll, &events);
	const mio_registry *reg = mio_poll_registry(poll);
	int l = tcp_listen_loopback(AF_INET, &addr, &len);
	mio_registry_register_fd(reg, l, 1, MIO_READABLE);
	mio_waker_new(reg, 2, &waker);
	int c = tcp_connect_nb(&addr, len);
	sleep_ms(50);
	is_errno(mio_registry_deregister_fd(reg, l), 0,
	    "deregister the listener with a connection pending");
	struct wake_later w = { waker, 300 };
	pthread_create(&thr, NULL, wake_thread, &w);
	int n = mio_poll_poll(poll, events, NULL);
	pthread_join(thr, NULL);
	is_int(n, 1, "the blocking poll returns exactly one event");
	ok(n == 1 && mio_event_token(mio_events_get(events, 0)) == 2 &&
	    mio_event_is_readable(mio_events_get(events, 0)),
	    "the waker's, readable");
	close(c);
	close(l);
	mio_waker_free(waker);
	mio_events_free(events);
	free_poll(poll);
}

/*
 * mio issue 776: a read right after the connect's writable event must
 * report EAGAIN, not block or fail, and the stream must then see its data.
 */
static void
issue_776(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;
	char buf[8];

	init_with_poll(&poll, &events);
	int l = tcp_listen_loopback(AF_INET, &addr, &len);
	int c = tcp_connect_nb(&addr, len);
	mio_registry_register_fd(mio_poll_registry(poll), c, 1,
	    MIO_READABLE | MIO_WRITABLE);
	expect_events(poll, events, { 1, R_WRITABLE });
	ok(read(c, buf, sizeof(buf)) == -1 && errno == EAGAIN,
	    "a read after the connect event would block");
	int s = tcp_accept_wait(l);
	is_int(write(s, "ok", 2), 2, "the server writes");
	expect_events(poll, events, { 1, R_READABLE });
	is_int(read(c, buf, sizeof(buf)), 2, "and the client reads it");
	close(s);
	close(c);
	close(l);
	mio_events_free(events);
	free_poll(poll);
}

/*
 * A descriptor number reused after close must not inherit the closed
 * descriptor's registration: the kernel forgot it with the close.
 *
 * libkqueue does not: it keeps the knotes of a descriptor closed while
 * registered ("the internal kqueue state is not cleaned up", its BUGS.md,
 * Linux), and a new EV_ADD on the reused number modifies that stale knote,
 * whose epoll registration went away with the close, so the new
 * descriptor never reports. Deregistering before closing, as mio.h asks,
 * avoids it.
 */
static void
reused_fd_number_is_unregistered(void)
{
	mio_poll *poll;
	mio_events *events;
	int a[2], b[2];

	init_with_poll(&poll, &events);
	nb_socketpair(SOCK_STREAM, a);
	mio_registry_register_fd(mio_poll_registry(poll), a[0], 1,
	    MIO_READABLE);
	int number = a[0];
	close(a[0]);
	nb_socketpair(SOCK_STREAM, b);
	if (b[0] != number && b[1] != number)
		diag("descriptor number %d was not reused", number);
	int fresh = b[0] == number ? b[0] : b[1];
	int other = fresh == b[0] ? b[1] : b[0];
	if (write(other, "x", 1) != 1)
		sysbail("write");
	expect_no_events(poll, events);
	is_errno(mio_registry_register_fd(mio_poll_registry(poll), fresh, 2,
		     MIO_READABLE),
	    0, "the reused number registers afresh");
	if (is_libkqueue())
		skip(1, "libkqueue keeps the closed descriptor's knote, so the "
		    "reused number reports nothing");
	else
		expect_events(poll, events, { 2, R_READABLE });
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
	issue_1205();
	issue_776();
	reused_fd_number_is_unregistered();
	return 0;
}
