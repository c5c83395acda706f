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
	mio_poll_free(poll);
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
	mio_poll_free(poll);
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
	mio_poll_free(poll);
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
	mio_poll_free(poll);
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

	if (!is_epoll()) {
		skip(2, "kqueue has no priority events (mio: is_priority is "
			"always false there)");
		return;
	}
	init_with_poll(&poll, &events);
	tcp_pair(&client, &server);
	mio_registry_register_fd(mio_poll_registry(poll), server, 1,
	    MIO_READABLE | MIO_PRIORITY);
	is_int(send(client, "!", 1, MSG_OOB), 1, "peer sends urgent data");
	expect_events(poll, events, { 1, R_READABLE | R_PRIORITY });
	close(client);
	close(server);
	mio_events_free(events);
	mio_poll_free(poll);
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
	mio_poll_free(poll);
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
		mio_poll_free(poll);
		return;
	}
	mio_registry_register_fd(mio_poll_registry(poll), c, 1, MIO_WRITABLE);
	expect_events(poll, events, { 1, R_WRITE_CLOSED });
	int err = 0;
	socklen_t errlen = sizeof(err);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &errlen);
	is_int(err, ECONNREFUSED, "SO_ERROR says connection refused");
	close(c);
	mio_events_free(events);
	mio_poll_free(poll);
}

static void
interests_epoll_ignores(void)
{
	mio_poll *poll;
	mio_events *events;
	int fds[2];

	if (!is_epoll()) {
		skip(2, "AIO/LIO interests are kqueue filters");
		return;
	}
	init_with_poll(&poll, &events);
	nb_socketpair(SOCK_STREAM, fds);
	is_errno(mio_registry_register_fd(mio_poll_registry(poll), fds[0], 1,
		     MIO_AIO | MIO_LIO),
	    0, "AIO|LIO registers on epoll (and asks for nothing)");
	expect_no_events(poll, events);
	close(fds[0]);
	close(fds[1]);
	mio_events_free(events);
	mio_poll_free(poll);
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
	reset_is_read_closed();
	connect_error();
	interests_epoll_ignores();
	return 0;
}
