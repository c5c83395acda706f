/*
 * registry.c - mio_registry: registration of sources and raw descriptors,
 * cloning, and the state a poll shares with its clones and its waker.
 *
 * Registration goes straight to the kernel (the selector keeps no table), so
 * every function here is safe to call from any thread, also while another
 * thread waits in mio_poll_poll().
 */
#include "mio-internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* Source of mio__poll_shared.id; 0 is never handed out. */
static atomic_uint_fast64_t registry_next_id = 1;

int
mio__poll_shared_new(struct mio__poll_shared **out)
{
	struct mio__poll_shared *shared = malloc(sizeof(*shared));

	if (shared == NULL)
		return -ENOMEM;
	atomic_init(&shared->refs, 1);
	atomic_init(&shared->has_waker, false);
	shared->id = atomic_fetch_add(&registry_next_id, 1);
	*out = shared;
	return 0;
}

void
mio__poll_shared_ref(struct mio__poll_shared *shared)
{
	atomic_fetch_add_explicit(&shared->refs, 1, memory_order_relaxed);
}

void
mio__poll_shared_unref(struct mio__poll_shared *shared)
{
	if (atomic_fetch_sub_explicit(&shared->refs, 1,
	    memory_order_acq_rel) == 1)
		free(shared);
}

int
mio__interest_check(mio_interest interest)
{
	if (interest == 0 || (interest & ~MIO__INTEREST_ALL) != 0)
		return -EINVAL;
	return 0;
}

uint64_t
mio__registry_id(const mio_registry *registry)
{
	return registry->shared->id;
}

int
mio__registry_fd(const mio_registry *registry)
{
	return registry->selector_fd;
}

int
mio_registry_register(const mio_registry *registry, mio_source *source,
    mio_token token, mio_interest interest)
{
	if (registry == NULL || source == NULL || source->ops == NULL ||
	    source->ops->register_source == NULL)
		return -EINVAL;
	int rc = mio__interest_check(interest);
	if (rc != 0)
		return rc;
	return source->ops->register_source(source, registry, token, interest);
}

int
mio_registry_reregister(const mio_registry *registry, mio_source *source,
    mio_token token, mio_interest interest)
{
	if (registry == NULL || source == NULL || source->ops == NULL ||
	    source->ops->reregister_source == NULL)
		return -EINVAL;
	int rc = mio__interest_check(interest);
	if (rc != 0)
		return rc;
	return source->ops->reregister_source(source, registry, token,
	    interest);
}

int
mio_registry_deregister(const mio_registry *registry, mio_source *source)
{
	if (registry == NULL || source == NULL || source->ops == NULL ||
	    source->ops->deregister_source == NULL)
		return -EINVAL;
	return source->ops->deregister_source(source, registry);
}

/* In parentheses: the epoll build defines a macro of the same name. */
int
(mio_registry_register_fd)(const mio_registry *registry, int fd,
    mio_token token, mio_interest interest)
{
	if (registry == NULL)
		return -EINVAL;
	int rc = mio__interest_check(interest);
	if (rc != 0)
		return rc;
	return mio__selector_register(registry->selector_fd, fd, token,
	    interest);
}

/* In parentheses: the epoll build defines a macro of the same name. */
int
(mio_registry_reregister_fd)(const mio_registry *registry, int fd,
    mio_token token, mio_interest interest)
{
	if (registry == NULL)
		return -EINVAL;
	int rc = mio__interest_check(interest);
	if (rc != 0)
		return rc;
	return mio__selector_reregister(registry->selector_fd, fd, token,
	    interest);
}

int
mio_registry_deregister_fd(const mio_registry *registry, int fd)
{
	if (registry == NULL)
		return -EINVAL;
	return mio__selector_deregister(registry->selector_fd, fd);
}

int
mio_registry_try_clone(const mio_registry *registry, mio_registry **out)
{
	if (registry == NULL || out == NULL)
		return -EINVAL;
	mio_registry *clone = malloc(sizeof(*clone));
	if (clone == NULL)
		return -ENOMEM;
	/* F_DUPFD_CLOEXEC so that a fork+exec in another thread cannot leak
	 * the duplicate (mio PR #1491 fixed exactly that leak). */
	int fd = fcntl(registry->selector_fd, F_DUPFD_CLOEXEC, 0);
	if (fd == -1) {
		int rc = -errno;
		free(clone);
		return rc;
	}
	clone->selector_fd = fd;
	clone->is_clone = true;
	clone->shared = registry->shared;
	mio__poll_shared_ref(clone->shared);
	*out = clone;
	return 0;
}

void
mio_registry_free(mio_registry *registry)
{
	if (registry == NULL || !registry->is_clone)
		return;
	close(registry->selector_fd);
	mio__poll_shared_unref(registry->shared);
	free(registry);
}
