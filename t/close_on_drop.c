/*
 * t/close_on_drop.c - the peer accepts and frees the connection at once;
 * the client, reregistering after every event, reads whatever arrived and
 * then end of stream. Ported in spirit from mio's tests/close_on_drop.rs,
 * which shows that reregister re-arms an edge-triggered registration.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "netutil.h"

#define SERVER ((mio_token)0)
#define CLIENT ((mio_token)1)

enum state { INITIAL, AFTER_READ };

struct handler {
	mio_tcp_listener *listener;
	mio_tcp_stream *client;
	const mio_registry *registry;
	enum state state;
	bool shutdown;
	bool unexpected;
};

static void
handle_read(struct handler *h, mio_token token)
{
	char buf[4096];

	if (token == SERVER) {
		mio_tcp_stream *accepted;
		if (mio_tcp_listener_accept(h->listener, &accepted, NULL,
			NULL) == 0)
			mio_tcp_stream_free(accepted);
		return;
	}
	if (h->state == INITIAL) {
		/* Whether data or end of stream comes first is timing. */
		(void)mio_tcp_stream_read(h->client, buf, sizeof(buf));
		h->state = AFTER_READ;
	}
	ssize_t n = mio_tcp_stream_read(h->client, buf, sizeof(buf));
	if (n == 0)
		h->shutdown = true;
	else if (n != -EAGAIN)
		h->unexpected = true;
	mio_registry_reregister(h->registry, mio_tcp_stream_source(h->client),
	    CLIENT, MIO_READABLE);
}

static void
handle_write(struct handler *h, mio_token token)
{
	if (token != CLIENT) {
		h->unexpected = true;
		return;
	}
	mio_registry_reregister(h->registry, mio_tcp_stream_source(h->client),
	    CLIENT, MIO_READABLE);
}

static void
close_on_drop(void)
{
	mio_poll *poll;
	mio_events *events;
	struct sockaddr_storage addr;
	socklen_t len;
	struct handler h = { .state = INITIAL };
	int polls = 0;

	init_with_poll(&poll, &events);
	h.registry = mio_poll_registry(poll);
	h.listener = tcp_listener_loopback(AF_INET, &addr, &len);
	is_errno(mio_registry_register(h.registry,
		     mio_tcp_listener_source(h.listener), SERVER, MIO_READABLE),
	    0, "register the listener");
	must(mio_tcp_stream_connect((struct sockaddr *)&addr, len, &h.client),
	    "connect");
	is_errno(mio_registry_register(h.registry,
		     mio_tcp_stream_source(h.client), CLIENT, MIO_WRITABLE),
	    0, "register the client writable");
	while (!h.shutdown && !h.unexpected && polls++ < 50) {
		struct timespec t = ms_timeout(1000);
		if (mio_poll_poll(poll, events, &t) < 0)
			break;
		MIO_EVENTS_FOREACH(ev, events) {
			if (mio_event_is_readable(ev))
				handle_read(&h, mio_event_token(ev));
			if (mio_event_is_writable(ev))
				handle_write(&h, mio_event_token(ev));
		}
	}
	ok(h.shutdown, "the client saw end of stream (after %d polls)", polls);
	ok(!h.unexpected, "and nothing it did not expect");
	ok(h.state == AFTER_READ, "after reading once first");
	mio_tcp_stream_free(h.client);
	mio_tcp_listener_free(h.listener);
	mio_events_free(events);
	free_poll(poll);
}

int
main(void)
{
	plan_lazy();
	diag("backend: %s", mio_backend());
	close_on_drop();
	return 0;
}
