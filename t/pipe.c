/*
 * t/pipe.c - mio_pipe_sender and mio_pipe_receiver: events for data, for
 * a full pipe draining, and for either end going away; writes that never
 * raise SIGPIPE whatever the caller's signal setup; adopting a child's
 * stdio. Ported in spirit from mio's tests/unix_pipe.rs.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netutil.h"

#define RECEIVER ((mio_token)0)
#define SENDER ((mio_token)1)

static const char DATA1[] = "Hello world";
#define DATA1_LEN (sizeof(DATA1) - 1)

extern char **environ;

/* mio's expect_one_closed_event: one event, for token, with the hint. */
static void
expect_one_closed_event(mio_poll *poll, mio_events *events, mio_token token,
    bool read_closed, const char *what)
{
	struct timespec t = ms_timeout(1000);
	int n = mio_poll_poll(poll, events, &t);
	const mio_event *ev = mio_events_get(events, 0);

	is_int(n, 1, "%s: exactly one event", what);
	ok(ev != NULL && mio_event_token(ev) == token &&
		(read_closed ? mio_event_is_read_closed(ev)
			     : mio_event_is_write_closed(ev)),
	    "%s: with the token and %s", what,
	    read_closed ? "read-closed" : "write-closed");
}

/* mio's smoke. */
static void
smoke(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_pipe_sender *sender;
	mio_pipe_receiver *receiver;
	char buf[20];

	init_with_poll(&poll, &events);
	is_errno(mio_pipe_new(&sender, &receiver), 0, "mio_pipe_new");
	ok(fd_is_nonblocking(mio_pipe_sender_fd(sender)) &&
		fd_is_nonblocking(mio_pipe_receiver_fd(receiver)),
	    "both ends are non-blocking");
	ok(fd_is_cloexec(mio_pipe_sender_fd(sender)) &&
		fd_is_cloexec(mio_pipe_receiver_fd(receiver)),
	    "both ends are close-on-exec");
	is_errno(mio_pipe_receiver_read(receiver, buf, sizeof(buf)), -EAGAIN,
	    "reading an empty pipe would block");
	const mio_registry *reg = mio_poll_registry(poll);
	must(mio_registry_register(reg, mio_pipe_receiver_source(receiver),
		 RECEIVER, MIO_READABLE),
	    "register receiver");
	must(mio_registry_register(reg, mio_pipe_sender_source(sender), SENDER,
		 MIO_WRITABLE),
	    "register sender");
	expect_events(poll, events, { SENDER, R_WRITABLE });
	is_int(mio_pipe_sender_write(sender, DATA1, DATA1_LEN), DATA1_LEN,
	    "write 11 bytes");
	expect_events(poll, events, { RECEIVER, R_READABLE });
	is_int(mio_pipe_receiver_read(receiver, buf, sizeof(buf)), DATA1_LEN,
	    "read 11 bytes");
	ok(memcmp(buf, DATA1, DATA1_LEN) == 0, "the ones written");

	struct iovec out[2] = { { (void *)"abc", 3 }, { (void *)"de", 2 } };
	is_int(mio_pipe_sender_writev(sender, out, 2), 5, "writev 5 bytes");
	char b1[4], b2[4];
	struct iovec in[2] = { { b1, sizeof(b1) }, { b2, sizeof(b2) } };
	expect_events(poll, events, { RECEIVER, R_READABLE });
	is_int(mio_pipe_receiver_readv(receiver, in, 2), 5, "readv 5 bytes");
	ok(memcmp(b1, "abcd", 4) == 0 && b2[0] == 'e', "in order");
	mio_pipe_sender_free(sender);
	mio_pipe_receiver_free(receiver);
	mio_events_free(events);
	free_poll(poll);
}

/* A full pipe: the writer drains to EAGAIN and is woken when there is room. */
static void
full_pipe_rearms(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_pipe_sender *sender;
	mio_pipe_receiver *receiver;
	static char buf[65536];
	size_t written = 0, read_back = 0;
	ssize_t n;

	init_with_poll(&poll, &events);
	must(mio_pipe_new(&sender, &receiver), "mio_pipe_new");
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_pipe_sender_source(sender), SENDER, MIO_WRITABLE),
	    "register");
	expect_events(poll, events, { SENDER, R_WRITABLE });
	memset(buf, 'p', sizeof(buf));
	while ((n = mio_pipe_sender_write(sender, buf, sizeof(buf))) > 0)
		written += (size_t)n;
	is_errno(n, -EAGAIN, "writing until the pipe is full ends in EAGAIN");
	ok(written > 0, "after %zu bytes", written);
	expect_no_events(poll, events);
	while ((n = mio_pipe_receiver_read(receiver, buf, sizeof(buf))) > 0)
		read_back += (size_t)n;
	is_int((long long)read_back, (long long)written,
	    "the reader empties the pipe");
	expect_events(poll, events, { SENDER, R_WRITABLE });
	mio_pipe_sender_free(sender);
	mio_pipe_receiver_free(receiver);
	mio_events_free(events);
	free_poll(poll);
}

/* mio's event_when_sender_is_dropped. */
static void
sender_dropped(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_pipe_sender *sender;
	mio_pipe_receiver *receiver;
	char buf[20];

	init_with_poll(&poll, &events);
	must(mio_pipe_new(&sender, &receiver), "mio_pipe_new");
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_pipe_receiver_source(receiver), RECEIVER, MIO_READABLE),
	    "register");
	is_int(mio_pipe_sender_write(sender, DATA1, DATA1_LEN), DATA1_LEN,
	    "write");
	expect_events(poll, events, { RECEIVER, R_READABLE });
	mio_pipe_sender_free(sender);
	expect_one_closed_event(poll, events, RECEIVER, true,
	    "sender freed");
	is_int(mio_pipe_receiver_read(receiver, buf, sizeof(buf)), DATA1_LEN,
	    "the data written before is still there");
	is_int(mio_pipe_receiver_read(receiver, buf, sizeof(buf)), 0,
	    "then end of stream");
	mio_pipe_receiver_free(receiver);
	mio_events_free(events);
	free_poll(poll);
}

static bool
sigpipe_pending(void)
{
	sigset_t pending;

	return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
}

static bool
sigpipe_blocked(void)
{
	sigset_t mask;

	return pthread_sigmask(SIG_BLOCK, NULL, &mask) == 0 &&
	    sigismember(&mask, SIGPIPE);
}

/*
 * mio's event_when_receiver_is_dropped, then the SIGPIPE guarantee: with
 * SIGPIPE at its default disposition (terminate) and unblocked, writing to
 * the orphaned pipe must give EPIPE and nothing else. A failure kills this
 * program, which the harness reports.
 */
static void
receiver_dropped(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_pipe_sender *sender;
	mio_pipe_receiver *receiver;

	init_with_poll(&poll, &events);
	signal(SIGPIPE, SIG_DFL);
	must(mio_pipe_new(&sender, &receiver), "mio_pipe_new");
	must(mio_registry_register(mio_poll_registry(poll),
		 mio_pipe_sender_source(sender), SENDER, MIO_WRITABLE),
	    "register");
	expect_events(poll, events, { SENDER, R_WRITABLE });
	mio_pipe_receiver_free(receiver);
	expect_one_closed_event(poll, events, SENDER, false,
	    "receiver freed");
	is_errno(mio_pipe_sender_write(sender, DATA1, DATA1_LEN), -EPIPE,
	    "write to a pipe without reader: -EPIPE, and the default SIGPIPE "
	    "action did not kill us");
	struct iovec iov = { (void *)DATA1, DATA1_LEN };
	is_errno(mio_pipe_sender_writev(sender, &iov, 1), -EPIPE,
	    "so does writev");
	ok(!sigpipe_pending(), "no SIGPIPE is left pending");
	ok(!sigpipe_blocked(), "and SIGPIPE is unblocked again");

	/* A caller that blocks SIGPIPE itself keeps its own pending one. */
	sigset_t sigpipe, old;
	sigemptyset(&sigpipe);
	sigaddset(&sigpipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigpipe, &old);
	raise(SIGPIPE);
	is_errno(mio_pipe_sender_write(sender, DATA1, DATA1_LEN), -EPIPE,
	    "with SIGPIPE blocked and pending, the write is -EPIPE");
	ok(sigpipe_pending(), "the caller's pending SIGPIPE is not consumed");
	ok(sigpipe_blocked(), "and the caller's mask is kept");
	int sig;
	sigwait(&sigpipe, &sig);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	mio_pipe_sender_free(sender);
	mio_events_free(events);
	free_poll(poll);
}

/* Starts cat with its stdin and stdout on new pipes; false if it cannot. */
static bool
spawn_cat(pid_t *pid, int *to_child, int *from_child)
{
	int in[2], out[2];
	posix_spawn_file_actions_t actions;
	char *argv[] = { (char *)"cat", NULL };

	if (pipe(in) == -1 || pipe(out) == -1)
		sysbail("pipe");
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, in[0], 0);
	posix_spawn_file_actions_adddup2(&actions, out[1], 1);
	posix_spawn_file_actions_addclose(&actions, in[1]);
	posix_spawn_file_actions_addclose(&actions, out[0]);
	int rc = posix_spawnp(pid, "cat", &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(in[0]);
	close(out[1]);
	if (rc != 0) {
		close(in[1]);
		close(out[0]);
		return false;
	}
	*to_child = in[1];
	*from_child = out[0];
	return true;
}

/*
 * mio's from_child_process_io and nonblocking_child_process_io: adopted
 * ends keep their (blocking) flags until set_nonblocking, and still work
 * as sources.
 */
static void
child_process_io(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_pipe_sender *sender;
	mio_pipe_receiver *receiver;
	int to_child, from_child, status;
	pid_t pid;
	char buf[20];

	if (!spawn_cat(&pid, &to_child, &from_child)) {
		skip(9, "cannot run cat");
		return;
	}
	init_with_poll(&poll, &events);
	is_errno(mio_pipe_sender_from_fd(to_child, &sender), 0,
	    "adopt the child's stdin");
	is_errno(mio_pipe_receiver_from_fd(from_child, &receiver), 0,
	    "adopt the child's stdout");
	ok(!fd_is_nonblocking(from_child), "from_fd leaves it blocking");
	is_errno(mio_pipe_receiver_set_nonblocking(receiver, true), 0,
	    "set_nonblocking");
	ok(fd_is_nonblocking(from_child), "makes it non-blocking");
	const mio_registry *reg = mio_poll_registry(poll);
	must(mio_registry_register(reg, mio_pipe_receiver_source(receiver),
		 RECEIVER, MIO_READABLE),
	    "register receiver");
	must(mio_registry_register(reg, mio_pipe_sender_source(sender), SENDER,
		 MIO_WRITABLE),
	    "register sender");
	expect_events(poll, events, { SENDER, R_WRITABLE });
	is_int(mio_pipe_sender_write(sender, DATA1, DATA1_LEN), DATA1_LEN,
	    "write to cat");
	expect_events(poll, events, { RECEIVER, R_READABLE });
	is_int(mio_pipe_receiver_read(receiver, buf, sizeof(buf)), DATA1_LEN,
	    "cat echoes it");
	mio_pipe_sender_free(sender);
	expect_events(poll, events, { RECEIVER, R_READ_CLOSED });
	waitpid(pid, &status, 0);
	mio_pipe_receiver_free(receiver);
	mio_events_free(events);
	free_poll(poll);
}

static void
fds_and_registration(void)
{
	mio_pipe_sender *sender;
	mio_pipe_receiver *receiver;

	must(mio_pipe_new(&sender, &receiver), "mio_pipe_new");
	registration_rules(mio_pipe_sender_source(sender), "pipe sender");
	registration_rules(mio_pipe_receiver_source(receiver),
	    "pipe receiver");
	int fd = mio_pipe_receiver_into_fd(receiver);
	ok(fd_is_open(fd), "into_fd keeps the descriptor open");
	is_errno(mio_pipe_receiver_from_fd(fd, &receiver), 0,
	    "from_fd adopts it again");
	mio_pipe_receiver_free(receiver);
	ok(!fd_is_open(fd), "free closes it");
	mio_pipe_sender_free(sender);
	is_errno(mio_pipe_new(NULL, &receiver), -EINVAL,
	    "mio_pipe_new without a sender pointer is -EINVAL");
	is_errno(mio_pipe_sender_write(NULL, "x", 1), -EINVAL,
	    "write(NULL) is -EINVAL");
}

int
main(void)
{
	plan_lazy();
	diag("backend: %s", mio_backend());
	smoke();
	full_pipe_rearms();
	sender_dropped();
	receiver_dropped();
	child_process_io();
	fds_and_registration();
	return 0;
}
