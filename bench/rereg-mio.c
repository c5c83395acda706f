/*
 * rereg-mio.c - one libmio reregister of each kind between markers, for
 * strace -f to show what system calls a reregister costs.
 *
 * getppid() is never cached by the C library, so each call is one system
 * call that marks a boundary in the trace. Between the first two markers
 * runs mio_registry_reregister_fd(); between the second and third runs
 * mio_registry_reregister() on a source whose hooks forward to the _fd
 * calls, as a handle type built on libmio would. bench/run-ring.sh checks
 * that each span holds exactly one system call, an EPOLL_CTL_MOD.
 */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mio.h>

/* A minimal source: an object that embeds mio_source and owns one fd. */
struct rereg_source {
	mio_source source;
	int fd;
};

static int
rereg_register(mio_source *source, const mio_registry *registry,
    mio_token token, mio_interest interest)
{
	struct rereg_source *s = (struct rereg_source *)source;

	return mio_registry_register_fd(registry, s->fd, token, interest);
}

static int
rereg_reregister(mio_source *source, const mio_registry *registry,
    mio_token token, mio_interest interest)
{
	struct rereg_source *s = (struct rereg_source *)source;

	return mio_registry_reregister_fd(registry, s->fd, token, interest);
}

static int
rereg_deregister(mio_source *source, const mio_registry *registry)
{
	struct rereg_source *s = (struct rereg_source *)source;

	return mio_registry_deregister_fd(registry, s->fd);
}

static const mio_source_ops rereg_ops = {
	.register_source = rereg_register,
	.reregister_source = rereg_reregister,
	.deregister_source = rereg_deregister,
};

int
main(void)
{
	mio_poll *poll;
	int fds[2];

	if (mio_poll_new(&poll) != 0 || socketpair(AF_UNIX, SOCK_STREAM |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
		fputs("rereg-mio: setup failed\n", stderr);
		return 1;
	}
	const mio_registry *registry = mio_poll_registry(poll);
	struct rereg_source source = { .source.ops = &rereg_ops, .fd = fds[1] };
	int rc = mio_registry_register_fd(registry, fds[0], 1, MIO_READABLE);
	if (rc == 0)
		rc = mio_registry_register(registry, &source.source, 2,
		    MIO_READABLE);

	getppid();
	if (rc == 0)
		rc = mio_registry_reregister_fd(registry, fds[0], 3,
		    MIO_READABLE | MIO_WRITABLE);
	getppid();
	if (rc == 0)
		rc = mio_registry_reregister(registry, &source.source, 4,
		    MIO_WRITABLE);
	getppid();

	if (rc != 0)
		fprintf(stderr, "rereg-mio: %s\n", mio_strerror(rc));
	mio_poll_free(poll);
	close(fds[0]);
	close(fds[1]);
	return rc == 0 ? 0 : 1;
}
