/*
 * io-source.c - registration bookkeeping for libmio's own handles; see
 * io-source.h for the rules it enforces.
 */
#include "io-source.h"

#include <unistd.h>

static struct mio__io_source *
io_source_of(mio_source *source)
{
	return (struct mio__io_source *)(void *)source;
}

static int
io_source_register(mio_source *source, const mio_registry *registry,
    mio_token token, mio_interest interest)
{
	struct mio__io_source *src = io_source_of(source);

	if (src->registry_id != 0)
		return -EEXIST;
	int rc = mio__selector_register(mio__registry_fd(registry), src->fd,
	    token, interest);
	if (rc == 0)
		src->registry_id = mio__registry_id(registry);
	return rc;
}

/* Whether src is registered with this registry's poll: 0 or -errno. */
static int
io_source_check_owner(const struct mio__io_source *src,
    const mio_registry *registry)
{
	if (src->registry_id == 0)
		return -ENOENT;
	if (src->registry_id != mio__registry_id(registry))
		return -EEXIST;
	return 0;
}

static int
io_source_reregister(mio_source *source, const mio_registry *registry,
    mio_token token, mio_interest interest)
{
	struct mio__io_source *src = io_source_of(source);
	int rc = io_source_check_owner(src, registry);

	if (rc != 0)
		return rc;
	return mio__selector_reregister(mio__registry_fd(registry), src->fd,
	    token, interest);
}

static int
io_source_deregister(mio_source *source, const mio_registry *registry)
{
	struct mio__io_source *src = io_source_of(source);
	int rc = io_source_check_owner(src, registry);

	if (rc != 0)
		return rc;
	rc = mio__selector_deregister(mio__registry_fd(registry), src->fd);
	/*
	 * ENOENT means the kernel already forgot the descriptor (kqueue drops
	 * filters whose descriptor hit EOF-and-close conditions); the handle
	 * is unregistered either way.
	 */
	if (rc == 0 || rc == -ENOENT)
		src->registry_id = 0;
	return rc == -ENOENT ? 0 : rc;
}

static const mio_source_ops io_source_ops = {
	.register_source = io_source_register,
	.reregister_source = io_source_reregister,
	.deregister_source = io_source_deregister,
};

void
mio__io_source_init(struct mio__io_source *src, int fd)
{
	src->source.ops = &io_source_ops;
	src->fd = fd;
	src->registry_id = 0;
}

int
mio__io_source_release(struct mio__io_source *src)
{
	int fd = src->fd;

	src->fd = -1;
	src->registry_id = 0;
	return fd;
}

void
mio__io_source_close(struct mio__io_source *src)
{
	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
	src->registry_id = 0;
}
