/*
 * pipe.c - mio_pipe_sender and mio_pipe_receiver: mio::unix::pipe
 * (src/sys/unix/pipe.rs in mio 1.x).
 *
 * The ends are made non-blocking and close-on-exec at once with pipe2(2)
 * where it exists (net.c). Writes cannot raise SIGPIPE: pipes have no
 * MSG_NOSIGNAL, so net.c blocks the signal in the writing thread around the
 * write and consumes the one the write raised; the caller's disposition
 * and mask are left as they were.
 *
 * Events, as mio documents them: the receiver gets read-closed once every
 * sender is gone, the sender gets write-closed once every receiver is gone
 * (epoll reports that as EPOLLERR alone, which mio's mapping, and libmio's,
 * count as write-closed).
 */
#include "net.h"

struct mio_pipe_sender {
	struct mio__io_source io;
};

struct mio_pipe_receiver {
	struct mio__io_source io;
};

static int
pipe_sender_fd(const mio_pipe_sender *sender)
{
	return sender != NULL ? sender->io.fd : -1;
}

static int
pipe_receiver_fd(const mio_pipe_receiver *receiver)
{
	return receiver != NULL ? receiver->io.fd : -1;
}

int
mio_pipe_new(mio_pipe_sender **sender, mio_pipe_receiver **receiver)
{
	int fds[2];

	if (sender == NULL || receiver == NULL)
		return -EINVAL;
	int rc = mio__net_pipe(fds);
	if (rc != 0)
		return rc;
	mio_pipe_receiver *r = mio__net_handle_wrap(sizeof(*r), fds[0]);
	mio_pipe_sender *s = mio__net_handle_wrap(sizeof(*s), fds[1]);
	if (r == NULL || s == NULL) {
		mio_pipe_receiver_free(r);
		mio_pipe_sender_free(s);
		return -ENOMEM;
	}
	*sender = s;
	*receiver = r;
	return 0;
}

ssize_t
mio_pipe_sender_write(mio_pipe_sender *sender, const void *buf, size_t len)
{
	return mio__net_pipe_write(pipe_sender_fd(sender), buf, len);
}

ssize_t
mio_pipe_sender_writev(mio_pipe_sender *sender, const struct iovec *iov,
    int iovcnt)
{
	return mio__net_pipe_writev(pipe_sender_fd(sender), iov, iovcnt);
}

ssize_t
mio_pipe_receiver_read(mio_pipe_receiver *receiver, void *buf, size_t len)
{
	return mio__net_read(pipe_receiver_fd(receiver), buf, len);
}

ssize_t
mio_pipe_receiver_readv(mio_pipe_receiver *receiver, const struct iovec *iov,
    int iovcnt)
{
	return mio__net_readv(pipe_receiver_fd(receiver), iov, iovcnt);
}

int
mio_pipe_sender_set_nonblocking(mio_pipe_sender *sender, bool nonblocking)
{
	return mio__net_set_nonblocking(pipe_sender_fd(sender), nonblocking);
}

int
mio_pipe_receiver_set_nonblocking(mio_pipe_receiver *receiver,
    bool nonblocking)
{
	return mio__net_set_nonblocking(pipe_receiver_fd(receiver),
	    nonblocking);
}

mio_source *
mio_pipe_sender_source(mio_pipe_sender *sender)
{
	return sender != NULL ? &sender->io.source : NULL;
}

mio_source *
mio_pipe_receiver_source(mio_pipe_receiver *receiver)
{
	return receiver != NULL ? &receiver->io.source : NULL;
}

int
mio_pipe_sender_fd(const mio_pipe_sender *sender)
{
	return sender != NULL ? sender->io.fd : -EINVAL;
}

int
mio_pipe_receiver_fd(const mio_pipe_receiver *receiver)
{
	return receiver != NULL ? receiver->io.fd : -EINVAL;
}

int
mio_pipe_sender_from_fd(int fd, mio_pipe_sender **out)
{
	if (out == NULL)
		return -EINVAL;
	int rc = mio__net_check_fd(fd);
	if (rc != 0)
		return rc;
	mio_pipe_sender *sender = mio__net_handle_new(sizeof(*sender), fd);
	if (sender == NULL)
		return -ENOMEM;
	*out = sender;
	return 0;
}

int
mio_pipe_receiver_from_fd(int fd, mio_pipe_receiver **out)
{
	if (out == NULL)
		return -EINVAL;
	int rc = mio__net_check_fd(fd);
	if (rc != 0)
		return rc;
	mio_pipe_receiver *receiver = mio__net_handle_new(sizeof(*receiver),
	    fd);
	if (receiver == NULL)
		return -ENOMEM;
	*out = receiver;
	return 0;
}

int
mio_pipe_sender_into_fd(mio_pipe_sender *sender)
{
	return mio__net_handle_into_fd(sender != NULL ? &sender->io : NULL);
}

int
mio_pipe_receiver_into_fd(mio_pipe_receiver *receiver)
{
	return mio__net_handle_into_fd(receiver != NULL ? &receiver->io : NULL);
}

void
mio_pipe_sender_free(mio_pipe_sender *sender)
{
	mio__net_handle_free(sender != NULL ? &sender->io : NULL);
}

void
mio_pipe_receiver_free(mio_pipe_receiver *receiver)
{
	mio__net_handle_free(receiver != NULL ? &receiver->io : NULL);
}
