/*
 * queue.h - <sys/queue.h>, with the one iterator glibc's copy lacks.
 *
 * The BSDs have TAILQ_FOREACH_SAFE, which lets the loop body remove the
 * element it is on; glibc does not, so it is defined here for the files
 * that free elements while walking a list.
 */
#ifndef MIODNSD_QUEUE_H
#define MIODNSD_QUEUE_H

#include <sys/queue.h>

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, next)                      \
	for ((var) = TAILQ_FIRST(head);                                  \
	    (var) != NULL && ((next) = TAILQ_NEXT(var, field), 1);       \
	    (var) = (next))
#endif

#endif /* MIODNSD_QUEUE_H */
