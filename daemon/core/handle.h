/*
 * handle.h - the token of everything a worker registers with its poll.
 *
 * A listener, a TCP connection, the worker's waker and the signal pipe
 * each embed a struct handle and register its address as their mio token,
 * so the worker can tell from an event whose it is (the first thing it
 * reads) and hand it to the transport that owns it. c-ares sockets are
 * the exception: mio-ares recognises its own tokens, and the worker asks
 * the upstreams first.
 */
#ifndef MIODNSD_HANDLE_H
#define MIODNSD_HANDLE_H

enum handle_kind {
	HANDLE_UDP,
	HANDLE_TCP_LISTEN,
	HANDLE_CONN,
	HANDLE_SIGNALS,
	HANDLE_WAKER,
};

struct handle {
	enum handle_kind kind;
};

#endif /* MIODNSD_HANDLE_H */
