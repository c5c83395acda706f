/*
 * util.c - test helpers; see util.h.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

unsigned
event_readiness(const mio_event *ev)
{
	unsigned r = 0;

	r |= mio_event_is_readable(ev) ? R_READABLE : 0;
	r |= mio_event_is_writable(ev) ? R_WRITABLE : 0;
	r |= mio_event_is_aio(ev) ? R_AIO : 0;
	r |= mio_event_is_lio(ev) ? R_LIO : 0;
	r |= mio_event_is_error(ev) ? R_ERROR : 0;
	r |= mio_event_is_read_closed(ev) ? R_READ_CLOSED : 0;
	r |= mio_event_is_write_closed(ev) ? R_WRITE_CLOSED : 0;
	r |= mio_event_is_priority(ev) ? R_PRIORITY : 0;
	return r;
}

const char *
readiness_name(unsigned readiness, char *buf, size_t len)
{
	static const char *const names[] = { "READABLE", "WRITABLE", "AIO",
		"LIO", "ERROR", "READ_CLOSED", "WRITE_CLOSED", "PRIORITY" };
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((readiness & (1u << i)) == 0)
			continue;
		int n = snprintf(buf + used, len - used, "%s%s",
		    used ? "|" : "", names[i]);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, len, "(none)");
	return buf;
}

struct timespec
ms_timeout(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000L };
	return ts;
}

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sleep_ms(long ms)
{
	struct timespec ts = ms_timeout(ms);

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Marks the expectations an event satisfies; returns whether any did. */
static bool
expect_match(const mio_event *ev, const struct expected_event *want,
    bool *seen, size_t n)
{
	unsigned got = event_readiness(ev);
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (seen[i] || want[i].token != mio_event_token(ev))
			continue;
		if ((got & want[i].readiness) == want[i].readiness) {
			seen[i] = true;
			any = true;
		}
	}
	return any;
}

static void
expect_report(const char *file, int line, const struct expected_event *want,
    const bool *seen, size_t n, const char *got)
{
	char buf[128];

	for (size_t i = 0; i < n; i++) {
		if (seen[i])
			continue;
		printf("#   %s:%d: token %ju: expected %s, got %s\n", file, line,
		    (uintmax_t)want[i].token,
		    readiness_name(want[i].readiness, buf, sizeof(buf)),
		    got[0] ? got : "no event");
	}
}

bool
expect_events_at(const char *file, int line, mio_poll *poll,
    mio_events *events, const struct expected_event *want, size_t n)
{
	bool seen[64] = { false };
	char got[1024] = "";
	size_t got_len = 0, remaining = n;

	if (n > 64)
		bail("expect_events: too many expectations");
	for (int round = 0; round < 3 && remaining > 0; round++) {
		struct timespec t = ms_timeout(500);
		int rc = mio_poll_poll(poll, events, &t);
		if (rc < 0 && rc != -EINTR)
			bail("%s:%d: poll: %s", file, line, mio_strerror(rc));
		MIO_EVENTS_FOREACH(ev, events) {
			char buf[128];
			if (expect_match(ev, want, seen, n))
				continue;
			/* Not expected: allowed, but shown on failure. */
			int k = snprintf(got + got_len, sizeof(got) - got_len,
			    "%stoken %ju %s", got_len ? ", " : "",
			    (uintmax_t)mio_event_token(ev),
			    readiness_name(event_readiness(ev), buf,
				sizeof(buf)));
			if (k > 0 && (size_t)k < sizeof(got) - got_len)
				got_len += (size_t)k;
		}
		remaining = 0;
		for (size_t i = 0; i < n; i++)
			remaining += !seen[i];
	}
	bool pass = tap_ok(file, line, remaining == 0,
	    "expect_events: %zu expected event(s) seen", n);
	if (!pass)
		expect_report(file, line, want, seen, n, got);
	return pass;
}

bool
expect_no_events_at(const char *file, int line, mio_poll *poll,
    mio_events *events)
{
	struct timespec t = ms_timeout(50);
	int rc = mio_poll_poll(poll, events, &t);

	if (rc < 0)
		bail("%s:%d: poll: %s", file, line, mio_strerror(rc));
	bool pass = tap_ok(file, line, rc == 0, "expect_no_events");
	if (!pass) {
		MIO_EVENTS_FOREACH(ev, events) {
			char buf[128];
			printf("#   %s:%d: unexpected event: token %ju %s\n",
			    file, line, (uintmax_t)mio_event_token(ev),
			    readiness_name(event_readiness(ev), buf,
				sizeof(buf)));
		}
	}
	return pass;
}

bool
no_event_with_token(const mio_events *events, mio_token token)
{
	MIO_EVENTS_FOREACH(ev, events) {
		if (mio_event_token(ev) == token)
			return false;
	}
	return true;
}

void
init_with_poll(mio_poll **poll, mio_events **events)
{
	int rc = mio_poll_new(poll);

	if (rc != 0)
		bail("mio_poll_new: %s", mio_strerror(rc));
	rc = mio_events_new(events, 16);
	if (rc != 0)
		bail("mio_events_new: %s", mio_strerror(rc));
}

/* The link of /proc/self/fd/fd, such as "pipe:[1234]", or "" if none. */
static void
fd_link(int fd, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/* Whether a descriptor of this process has the link target. */
static bool
fd_link_is_open(const char *target)
{
	DIR *dir = opendir("/proc/self/fd");
	bool found = false;

	if (dir == NULL)
		return false;
	for (struct dirent *de; !found && (de = readdir(dir)) != NULL;) {
		char link[64];
		if (de->d_name[0] == '.')
			continue;
		fd_link(atoi(de->d_name), link, sizeof(link));
		found = strcmp(link, target) == 0;
	}
	closedir(dir);
	return found;
}

void
kqueue_note(int selector_fd, struct kqueue_note *note)
{
	note->pipe_name[0] = '\0';
	/*
	 * libkqueue's kqueue descriptor is the write end of a pipe whose
	 * read end it keeps; it closes the read end when it releases the
	 * kqueue, so the pipe's name vanishes from /proc/self/fd then.
	 */
	if (is_libkqueue())
		fd_link(selector_fd, note->pipe_name, sizeof(note->pipe_name));
}

void
kqueue_wait_released(const struct kqueue_note *note)
{
	if (strncmp(note->pipe_name, "pipe:", 5) != 0)
		return;
	long long deadline = now_ms() + 10000;
	while (fd_link_is_open(note->pipe_name)) {
		if (now_ms() > deadline)
			bail("libkqueue has not released the kqueue (%s) "
			    "after 10 s", note->pipe_name);
		nanosleep(&(struct timespec){ 0, 200000 }, NULL);
	}
}

void
free_poll(mio_poll *poll)
{
	struct kqueue_note note = { "" };

	if (poll != NULL)
		kqueue_note(mio_poll_fd(poll), &note);
	mio_poll_free(poll);
	kqueue_wait_released(&note);
}

bool
fd_is_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl != -1 && (fl & O_NONBLOCK) != 0;
}

bool
fd_is_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	return fl != -1 && (fl & FD_CLOEXEC) != 0;
}

void
fd_set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		sysbail("fcntl O_NONBLOCK");
}

int
count_open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	if (dir == NULL)
		dir = opendir("/dev/fd");
	if (dir == NULL)
		sysbail("opendir /proc/self/fd");
	for (struct dirent *de; (de = readdir(dir)) != NULL;)
		n += de->d_name[0] != '.';
	closedir(dir);
	return n - 1; /* The directory's own descriptor. */
}

bool
is_libkqueue(void)
{
	return MIO_BACKEND_LIBKQUEUE != 0;
}

int
settled_fd_count(int want)
{
	int now = count_open_fds();

	for (int i = 0; i < 10000 && is_libkqueue() && now > want; i++) {
		nanosleep(&(struct timespec){ 0, 200000 }, NULL);
		now = count_open_fds();
	}
	return now;
}

bool
is_fd_count_at(const char *file, int line, int before, const char *what)
{
	int now = settled_fd_count(before);

	if (is_libkqueue())
		return tap_ok(file, line, now <= before, "%s (libkqueue frees "
		    "kqueues asynchronously: %d open, %d before)", what, now,
		    before);
	return tap_is_int(file, line, now, before, "%s", what);
}

void
nb_socketpair(int type, int fds[2])
{
	if (socketpair(AF_UNIX, type, 0, fds) == -1)
		sysbail("socketpair");
	for (int i = 0; i < 2; i++) {
		fd_set_nonblocking(fds[i]);
		if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) == -1)
			sysbail("fcntl FD_CLOEXEC");
	}
}

void
nb_pipe(int fds[2])
{
	if (pipe(fds) == -1)
		sysbail("pipe");
	fd_set_nonblocking(fds[0]);
	fd_set_nonblocking(fds[1]);
}

static void
loopback_addr(int family, struct sockaddr_storage *addr, socklen_t *addrlen)
{
	memset(addr, 0, sizeof(*addr));
	if (family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		*addrlen = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)addr;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*addrlen = sizeof(*in);
	}
}

static int
socket_bound_loopback(int family, int type, struct sockaddr_storage *addr,
    socklen_t *addrlen)
{
	int fd = socket(family, type, 0);

	if (fd == -1)
		return -1;
	loopback_addr(family, addr, addrlen);
	if (bind(fd, (struct sockaddr *)addr, *addrlen) == -1 ||
	    getsockname(fd, (struct sockaddr *)addr, addrlen) == -1) {
		close(fd);
		return -1;
	}
	fd_set_nonblocking(fd);
	return fd;
}

int
tcp_listen_loopback(int family, struct sockaddr_storage *addr,
    socklen_t *addrlen)
{
	int fd = socket_bound_loopback(family, SOCK_STREAM, addr, addrlen);

	if (fd != -1 && listen(fd, 128) == -1)
		sysbail("listen");
	return fd;
}

int
tcp_connect_nb(const struct sockaddr_storage *addr, socklen_t addrlen)
{
	int fd = socket(addr->ss_family, SOCK_STREAM, 0);

	if (fd == -1)
		sysbail("socket");
	fd_set_nonblocking(fd);
	if (connect(fd, (const struct sockaddr *)addr, addrlen) == -1 &&
	    errno != EINPROGRESS)
		sysbail("connect");
	return fd;
}

int
tcp_accept_wait(int listen_fd)
{
	struct pollfd p = { .fd = listen_fd, .events = POLLIN };

	if (poll(&p, 1, 2000) != 1)
		bail("tcp_accept_wait: no connection within 2 s");
	int fd = accept(listen_fd, NULL, NULL);
	if (fd == -1)
		sysbail("accept");
	fd_set_nonblocking(fd);
	return fd;
}

int
udp_bind_loopback(int family, struct sockaddr_storage *addr,
    socklen_t *addrlen)
{
	return socket_bound_loopback(family, SOCK_DGRAM, addr, addrlen);
}

void
set_linger_zero(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) == -1)
		sysbail("setsockopt SO_LINGER");
}
