/*
 * abi/facts.c - prints the part of libmio's ABI that abidw cannot see:
 * what the inline event path of <mio.h> (and the epoll build's inline
 * poll and registration) compiles into callers' programs. A program built
 * against one libmio.so.0 reads the native event records, the head of
 * mio_events and the selector descriptor at the front of a poll and a
 * registry itself, so each of these facts is as binding as a function's
 * signature. make abi-check compares this output with the committed
 * abi/<cpu>-<backend>/facts.txt; any difference is an incompatible change.
 *
 * It includes the library's internal header, so it is built in the tree
 * only (by abi/abi.sh), never installed.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>

#include "mio-internal.h"

#define FACT(expr) printf("%s %lld\n", #expr, (long long)(expr))

int
main(void)
{
	/* The native record, as MIO_EVENTS_FOREACH steps over it. */
	FACT(MIO_SYS_EVENT_SIZE);
	FACT(MIO_SYS_EVENT_TOKEN_OFFSET);
	FACT(MIO_SYS_INLINE_EPOLL);
	FACT(sizeof(mio__sys_event));
	FACT(sizeof(mio_token));
	FACT(sizeof(mio_interest));
	/* The head of every mio_events, read and written inline. */
	FACT(offsetof(struct mio_events, head));
	FACT(offsetof(struct mio_inline_events_head, begin));
	FACT(offsetof(struct mio_inline_events_head, end));
	FACT(offsetof(struct mio_inline_events_head, capacity));
	FACT(sizeof(struct mio_inline_events_head));
	/* The selector descriptor, read at the front of a poll or registry. */
	FACT(offsetof(struct mio_poll, registry));
	FACT(offsetof(struct mio_registry, selector_fd));
	FACT(sizeof(((struct mio_registry *)0)->selector_fd));
	/* Interest bits, which the inline registration checks and converts. */
	FACT(MIO_READABLE);
	FACT(MIO_WRITABLE);
	FACT(MIO_AIO);
	FACT(MIO_LIO);
	FACT(MIO_PRIORITY);
	return 0;
}
