/*
 * t/interest.c - interests and the readiness they produce: mio's bit
 * values, read/write-closed hints, priority data, and the interests epoll
 * ignores. Ported in spirit from mio's tests/interest.rs and the event
 * parts of tcp_stream.rs and unix_pipe.rs, on plain descriptors.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

static bool
is_epoll(void)
{
	return strcmp(mio_backend(), "epoll") == 0;
}

/* Whether the last poll stored an event with token that says is_error. */
static bool
error_event_with_token(const mio_events *events, mio_token token)
{
	MIO_EVENTS_FOREACH(ev, events)
		if (mio_event_token(ev) == token && mio_event_is_error(ev))
			return true;
	return false;
}

/* Whether the last poll stored an event with token that is write-closed. */
static bool
write_closed_with_token(const mio_events *events, mio_token token)
{
	MIO_EVENTS_FOREACH(ev, events)
		if (mio_event_token(ev) == token &&
		    mio_event_is_write_closed(ev))
			return true;
	return false;
}

static void
bit_values(void)
{
	ok(MIO_READABLE == 0x01 && MIO_WRITABLE == 0x02 && MIO_AIO == 0x04 &&
	    MIO_LIO == 0x08 && MIO_PRIORITY == 0x10,
	    "interest bits have mio's values");
	ok(sizeof(mio_interest) == 1 && sizeof(mio_token) == sizeof(void *),
	    "mio_interest is a byte, mio_token a pointer-sized integer");
	mio_interest both = MIO_READABLE | MIO_WRITABLE;
	ok((both & MIO_READABLE) && (both & MIO_WRITABLE) &&
	    !(both & MIO_PRIORITY), "interests combine with |");
}

static void
readable_and_writable(void)
{
	mio_poll *poll;
	mio_events *events;
	int fds[2];

	init_with_poll(&poll, &events);
	nb_socketpair(SOCK_STREAM, fds);
	if (write(fds[1], "x", 1) != 1)
		sysbail("write");
	mio_registry_register_fd(mio_poll_registry(poll), fds[0], 1,
	    MIO_READABLE | MIO_WRITABLE);
	expect_events(poll, events, { 1, R_READABLE }, { 1, R_WRITABLE });
	ok(!mio_event_is_read_closed(mio_events_get(events, 0)),
	    "an open socket is not read-closed");
	close(fds[0]);
	close(fds[1]);
	mio_events_free(events);
	free_poll(poll);
}

static void
peer_shutdown_is_read_closed(void)
{
	mio_poll *poll;
	mio_events *events;
	int fds[2];

	init_with_poll(&poll, &events);
	nb_socketpair(SOCK_STREAM, fds);
	mio_registry_register_fd(mio_poll_registry(poll), fds[0], 1,
	    MIO_READABLE);
	shutdown(fds[1], SHUT_WR);
	expect_events(poll, events, { 1, R_READABLE | R_READ_CLOSED });
	char c;
	is_int(read(fds[0], &c, 1), 0, "and the read sees end of file");
	close(fds[0]);
	close(fds[1]);
	mio_events_free(events);
	free_poll(poll);
}

static void
local_shutdowns(void)
{
	mio_poll *poll;
	mio_events *events;
	int fds[2];

	init_with_poll(&poll, &events);
	nb_socketpair(SOCK_STREAM, fds);
	mio_registry_register_fd(mio_poll_registry(poll), fds[0], 1,
	    MIO_READABLE | MIO_WRITABLE);
	expect_events(poll, events, { 1, R_WRITABLE });
	shutdown(fds[0], SHUT_RD);
	expect_events(poll, events, { 1, R_READ_CLOSED });
	shutdown(fds[0], SHUT_RDWR);
	expect_events(poll, events, { 1, R_WRITE_CLOSED });
	close(fds[0]);
	close(fds[1]);
	mio_events_free(events);
	free_poll(poll);
}

static void
pipe_ends(void)
{
	mio_poll *poll;
	mio_events *events;
	int p[2];

	init_with_poll(&poll, &events);
	nb_pipe(p);
	mio_registry_register_fd(mio_poll_registry(poll), p[0], 1,
	    MIO_READABLE);
	close(p[1]);
	expect_events(poll, events, { 1, R_READ_CLOSED });
	close(p[0]);

	nb_pipe(p);
	mio_registry_register_fd(mio_poll_registry(poll), p[1], 2,
	    MIO_WRITABLE);
	expect_events(poll, events, { 2, R_WRITABLE });
	close(p[0]);
	/* epoll reports EPOLLERR alone here, which mio maps to write-closed. */
	expect_events(poll, events, { 2, R_WRITE_CLOSED });
	close(p[1]);
	mio_events_free(events);
	free_poll(poll);
}

static void
tcp_pair(int *client, int *server)
{
	struct sockaddr_storage addr;
	socklen_t len;
	int l = tcp_listen_loopback(AF_INET, &addr, &len);

	if (l == -1)
		sysbail("listen");
	*client = tcp_connect_nb(&addr, len);
	*server = tcp_accept_wait(l);
	close(l);
}

static void
priority_on_oob_data(void)
{
	mio_poll *poll;
	mio_events *events;
	int client, server;

	init_with_poll(&poll, &events);
	tcp_pair(&client, &server);
	mio_registry_register_fd(mio_poll_registry(poll), server, 1,
	    MIO_READABLE | MIO_PRIORITY);
	is_int(send(client, "!", 1, MSG_OOB), 1, "peer sends urgent data");
	if (is_epoll()) {
		expect_events(poll, events, { 1, R_READABLE | R_PRIORITY });
	} else {
		/*
		 * kqueue has no priority filter: MIO_PRIORITY adds nothing
		 * and is_priority is always false (mio: "kqueue doesn't have
		 * priority indicators"). Ordinary data after the urgent byte
		 * makes the socket readable on every kqueue.
		 */
		is_int(send(client, ".", 1, 0), 1, "and ordinary data");
		expect_events(poll, events, { 1, R_READABLE });
		bool priority = false;
		MIO_EVENTS_FOREACH(ev, events)
			priority |= mio_event_is_priority(ev);
		ok(!priority, "kqueue reports no priority (epoll would)");
	}
	close(client);
	close(server);
	mio_events_free(events);
	free_poll(poll);
}

/*
 * A local shutdown(SHUT_WR) closes the write direction only. Native kqueue
 * reports EV_EOF on EVFILT_WRITE, which is write-closed; epoll raises
 * neither EPOLLHUP nor EPOLLERR for a half-close, so there is nothing to
 * map (mio ignores tcp_shutdown_client_write_close_event on Linux).
 * libkqueue derives EV_EOF from those epoll bits (src/linux/write.c) and
 * so behaves like epoll here, not like native kqueue.
 */
static void
local_shutdown_write(void)
{
	mio_poll *poll;
	mio_events *events;
	int client, server;
	struct timespec t = ms_timeout(100);

	init_with_poll(&poll, &events);
	tcp_pair(&client, &server);
	mio_registry_register_fd(mio_poll_registry(poll), client, 1,
	    MIO_READABLE | MIO_WRITABLE);
	expect_events(poll, events, { 1, R_WRITABLE });
	shutdown(client, SHUT_WR);
	if (is_epoll() || is_libkqueue()) {
		mio_poll_poll(poll, events, &t);
		ok(!write_closed_with_token(events, 1), "%s: a local SHUT_WR "
		    "is not write-closed (native kqueue says it is)",
		    is_epoll() ? "epoll" : "libkqueue");
	} else {
		expect_events(poll, events, { 1, R_WRITE_CLOSED });
	}
	close(client);
	close(server);
	mio_events_free(events);
	free_poll(poll);
}

static void
reset_is_read_closed(void)
{
	mio_poll *poll;
	mio_events *events;
	int client, server;

	init_with_poll(&poll, &events);
	tcp_pair(&client, &server);
	mio_registry_register_fd(mio_poll_registry(poll), client, 1,
	    MIO_READABLE);
	set_linger_zero(server);
	close(server);
	expect_events(poll, events, { 1, R_READ_CLOSED });
	close(client);
	mio_events_free(events);
	free_poll(poll);
}

static void
connect_error(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;

	init_with_poll(&poll, &events);
	/* Bind a port, then close it: nothing listens there. */
	int l = tcp_listen_loopback(AF_INET, &addr, &len);
	close(l);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	fd_set_nonblocking(c);
	if (connect(c, (struct sockaddr *)&addr, len) == 0 ||
	    errno != EINPROGRESS) {
		skip(2, "connect to a closed port failed synchronously");
		close(c);
		mio_events_free(events);
		free_poll(poll);
		return;
	}
	mio_registry_register_fd(mio_poll_registry(poll), c, 1, MIO_WRITABLE);
	expect_events(poll, events, { 1, R_WRITE_CLOSED });
	int err = 0;
	socklen_t errlen = sizeof(err);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &errlen);
	/*
	 * libkqueue reads SO_ERROR itself to put the error in fflags
	 * (src/linux/write.c, evfilt_write_copyout), which clears it;
	 * native kqueue copies so_error into fflags and leaves it set. The
	 * refusal is then only in the event: EV_EOF with fflags, is_error.
	 */
	if (is_libkqueue() && err == 0)
		ok(error_event_with_token(events, 1), "libkqueue consumed "
		    "SO_ERROR; the event carries the error (is_error)");
	else
		is_int(err, ECONNREFUSED, "SO_ERROR says connection refused");
	close(c);
	mio_events_free(events);
	free_poll(poll);
}

static void
interests_that_add_nothing(void)
{
	mio_poll *poll;
	mio_events *events;
	int fds[2];

	/*
	 * Neither backend adds anything for AIO or LIO interest: epoll has
	 * no such events, and on kqueue AIO completion is requested through
	 * the aiocb's sigevent naming the kqueue (mio: the AIO and LIO bits
	 * add no kevent). So registering succeeds and reports nothing.
	 */
	init_with_poll(&poll, &events);
	nb_socketpair(SOCK_STREAM, fds);
	is_errno(mio_registry_register_fd(mio_poll_registry(poll), fds[0], 1,
		     MIO_AIO | MIO_LIO),
	    0, "AIO|LIO registers on %s (and asks for nothing)",
	    mio_backend());
	expect_no_events(poll, events);
	close(fds[0]);
	close(fds[1]);
	mio_events_free(events);
	free_poll(poll);
}

int
main(void)
{
	plan_lazy();
	bit_values();
	readable_and_writable();
	peer_shutdown_is_read_closed();
	local_shutdowns();
	pipe_ends();
	priority_on_oob_data();
	local_shutdown_write();
	reset_is_read_closed();
	connect_error();
	interests_that_add_nothing();
	return 0;
}
