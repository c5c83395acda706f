/*
 * registry.c - mio_registry: registration of sources and raw descriptors,
 * cloning, and the state a poll shares with its clones and its waker.
 *
 * Registration goes straight to the kernel (the selector keeps no table), so
 * every function here is safe to call from any thread, also while another
 * thread waits in mio_poll_poll().
 *
 * A clone is a second handle on the poll's own selector descriptor, kept
 * open by the shared state's reference count, not a dup() as in mio:
 * libkqueue looks a kqueue up by the number kqueue() returned and refuses
 * any other (its src/common/kqueue.c, kqueue_lookup()), and one behaviour
 * on every backend is simpler than a duplicate on some. The descriptor is
 * closed by whichever of the poll, its clones and its waker is freed last,
 * so a clone used after mio_poll_free() still talks to a live kernel
 * instance and never to a number reused by something else.
 */
#include "mio-internal.h"

#include <stdlib.h>
#include <unistd.h>

/* Source of mio__poll_shared.id; 0 is never handed out. */
static atomic_uint_fast64_t registry_next_id = 1;

/* Takes ownership of selector_fd only on success; the caller (the poll)
 * holds the first reference. */
int
mio__poll_shared_new(int selector_fd, struct mio__poll_shared **out)
{
	struct mio__poll_shared *shared = malloc(sizeof(*shared));

	if (shared == NULL)
		return -ENOMEM;
	atomic_init(&shared->refs, 1);
	atomic_init(&shared->has_waker, false);
	shared->id = atomic_fetch_add(&registry_next_id, 1);
	shared->selector_fd = selector_fd;
	*out = shared;
	return 0;
}

void
mio__poll_shared_ref(struct mio__poll_shared *shared)
{
	atomic_fetch_add_explicit(&shared->refs, 1, memory_order_relaxed);
}

/*
 * The last reference closes the selector. acq_rel so that the thread that
 * closes it sees every other holder's use of it finished.
 */
void
mio__poll_shared_unref(struct mio__poll_shared *shared)
{
	if (atomic_fetch_sub_explicit(&shared->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	close(shared->selector_fd);
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
	clone->selector_fd = registry->selector_fd;
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
	mio__poll_shared_unref(registry->shared);
	free(registry);
}
