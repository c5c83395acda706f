/*
 * tls.h - miodnsd's TLS engine: a non-blocking TLS stream over a TCP socket
 * that the caller has registered with libmio, driven by edge-triggered
 * readiness. Both DNS over TLS ends use it: the listener (RFC 7858, server
 * streams) and the upstream client (RFC 8310 strict profile, client
 * streams). It is OpenSSL 3 underneath; nothing of OpenSSL shows here.
 *
 * The stream never blocks and never loops waiting: every call makes the
 * progress the socket allows and returns -EAGAIN when the TLS library has
 * to wait. What it waits for is remembered per operation (handshake, read,
 * flush, close): a read may wait for WRITABLE (the library must send
 * something first) and a flush for READABLE. tls_stream_ready() is told
 * every event of the descriptor and clears exactly the waits that event
 * satisfies; an operation whose wait is still pending returns -EAGAIN at
 * once, without a system call, so an event for the other direction costs
 * nothing. The caller registers the descriptor once, READABLE | WRITABLE,
 * and never needs to reregister: under edge triggering a writable edge
 * only comes when the send buffer drains.
 *
 * Two rules follow from edge triggering (docs/readiness.md):
 *  - Read until tls_stream_read() returns -EAGAIN (or 0, or an error).
 *    OpenSSL may hold decrypted data that produces no new edge, so
 *    "the socket said nothing new" is not "there is nothing to read";
 *    only the library's own -EAGAIN is. A caller that stops early (its
 *    pipeline is full) calls tls_stream_read() again later on its own.
 *  - Everything the caller wants sent goes through tls_stream_send(),
 *    which queues and flushes; a flush that returns -EAGAIN is retried by
 *    calling tls_stream_flush() after the next event. The queue is the
 *    stream's, so OpenSSL's rule that a retried SSL_write() must see the
 *    same bytes again (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets them move
 *    when the queue grows) is kept here and not by every caller.
 *
 * The calls for one connection, inside the caller's event handler:
 *
 *	tls_stream_ready(s, tls_event_interest(ev));
 *	if ((rc = tls_stream_handshake(s)) == -EAGAIN)
 *		return;				(wait for the next event)
 *	if (rc < 0)
 *		goto fail;			(tls_stream_error(s) says why)
 *	while ((n = tls_stream_read(s, buf, sizeof(buf))) > 0)
 *		consume(buf, n);		(may tls_stream_send() answers)
 *	if (n == 0 || (n < 0 && n != -EAGAIN))
 *		goto done;			(0: the peer's close_notify)
 *	if ((rc = tls_stream_flush(s)) < 0 && rc != -EAGAIN)
 *		goto fail;
 *
 * and at the end tls_stream_close_notify() (retried on -EAGAIN, or not:
 * RFC 8446 6.1 lets a side close without waiting), then
 * tls_stream_free(), deregistering and closing the descriptor, which
 * stays the caller's. tls_stream_read() calls the handshake itself when
 * it is not done, and so does tls_stream_flush().
 *
 * Errors are negative errno values: -EAGAIN (wait for an event),
 * -ECONNRESET (the peer closed without close_notify, or a record was cut
 * short), -EPERM (the peer's certificate was refused: untrusted, expired,
 * or not for the expected name; the stream fails closed), -EPROTO (any
 * other TLS failure: garbage instead of a handshake, a fatal alert),
 * -ENOMEM, or the socket's own errno. After an error every call returns
 * the same error; tls_stream_error() has a sentence for the log.
 *
 * Threads: a context may be shared by streams on any number of threads
 * (OpenSSL's SSL_CTX is, and the counters are atomic); one stream belongs
 * to one thread at a time. OpenSSL writes with write(2), so a process
 * using this ignores SIGPIPE (miodnsd does already, for c-ares).
 */
#ifndef MIODNSD_TLS_H
#define MIODNSD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "mio.h"

struct tls_ctx;
struct tls_stream;
struct ssl_session_st;

/*
 * Where a client keeps the session of its last connection to one server,
 * so that the next connection resumes it (a TLS 1.3 ticket or a TLS 1.2
 * one). Zero-initialised by its owner, which passes it to every client
 * stream to that server, outlives those streams, and frees it with
 * tls_session_slot_clear().
 */
struct tls_session_slot {
	struct ssl_session_st *session;
};

/* A context's counts since it was made, for the statistics. */
struct tls_counters {
	unsigned long handshakes;	/* completed */
	unsigned long resumptions;	/* completed handshakes that resumed */
	unsigned long failures;		/* handshakes that failed */
};

/*
 * A server context: the certificate chain and key from PEM files, TLS 1.2
 * and 1.3, ALPN "dot" when the client offers it (a client that offers
 * other protocols only is served without ALPN, as RFC 7858 predates it),
 * session tickets for resumption (stateless, with keys of this context:
 * a new context, at a reload, starts a new key).
 * 0, or -ENOENT/-EACCES (a file cannot be read), -EINVAL (a file is not a
 * certificate or key, or they do not match), -ENOMEM; then err holds a
 * sentence naming the file.
 */
int tls_ctx_server_new(struct tls_ctx **out, const char *cert_file,
    const char *key_file, char *err, size_t errlen);

/*
 * A client context: certificates verified against ca_file (PEM, one or
 * more CAs), or the system's CA store when ca_file is NULL; TLS 1.2 and
 * 1.3; ALPN "dot" offered. Every stream checks the name it is given.
 * Errors as for tls_ctx_server_new().
 */
int tls_ctx_client_new(struct tls_ctx **out, const char *ca_file, char *err,
    size_t errlen);

/*
 * Restricts a context to TLS 1.2, for a peer whose TLS 1.3 misbehaves and
 * for the tests of the TLS 1.2 paths. Affects streams made after it.
 */
void tls_ctx_max_tls12(struct tls_ctx *ctx);

/* Another reference to ctx (NULL ok), dropped with tls_ctx_free(). */
struct tls_ctx *tls_ctx_ref(struct tls_ctx *ctx);

/* Drops the caller's reference; streams keep the context alive. NULL ok. */
void tls_ctx_free(struct tls_ctx *ctx);

/* Copies the context's counters (summed over every stream made from it). */
void tls_ctx_counters(const struct tls_ctx *ctx, struct tls_counters *out);

/* Frees the session a slot holds, leaving it empty. */
void tls_session_slot_clear(struct tls_session_slot *slot);

/*
 * A server stream on fd, a connected non-blocking TCP socket that stays
 * the caller's (never closed here). 0, -ENOMEM or -EINVAL.
 */
int tls_stream_server_new(struct tls_stream **out, struct tls_ctx *ctx,
    int fd);

/*
 * A client stream on fd (connected, or with connect() in progress: the
 * handshake waits for WRITABLE first). peer_name is what the server's
 * certificate must carry, a DNS name (also sent as SNI) or an IP address
 * literal (then matched against the certificate's IP addresses); it is
 * required (RFC 8310 strict profile). slot, if not NULL, provides a
 * session to resume and receives the new one.
 * 0, -EINVAL (no or a bad name, or ctx is a server context) or -ENOMEM.
 */
int tls_stream_client_new(struct tls_stream **out, struct tls_ctx *ctx,
    int fd, const char *peer_name, struct tls_session_slot *slot);

/* Frees the stream, without sending anything. NULL ok. */
void tls_stream_free(struct tls_stream *s);

/*
 * The readiness of one event for the stream's descriptor, as an interest
 * mask: an error or hang-up counts as both readable and writable, so that
 * the next call finds the error itself.
 */
mio_interest tls_event_interest(const mio_event *ev);

/* Tells the stream that its descriptor became ready (every event). */
void tls_stream_ready(struct tls_stream *s, mio_interest ready);

/*
 * Drives the handshake: 0 when done (also when it was done before),
 * -EAGAIN to wait for an event, or an error (above).
 */
int tls_stream_handshake(struct tls_stream *s);

/*
 * Reads decrypted data: its length, 0 once the peer sent close_notify,
 * -EAGAIN when the library needs an event first, or an error.
 */
ssize_t tls_stream_read(struct tls_stream *s, void *buf, size_t len);

/*
 * True when tls_stream_read() is worth calling: its last call did not end
 * waiting for an event that has not come, or decrypted data is buffered.
 */
bool tls_stream_readable(const struct tls_stream *s);

/*
 * Queues len bytes and flushes what the socket takes. 0 (whatever was
 * left is sent by later flushes), -ENOMEM, or the stream's error.
 */
int tls_stream_send(struct tls_stream *s, const void *buf, size_t len);

/*
 * Queues len bytes without writing (several pieces then go out in one
 * record at the next send or flush). 0, -ENOMEM, or the stream's error.
 */
int tls_stream_queue(struct tls_stream *s, const void *buf, size_t len);

/* Sends queued bytes: 0 when none are left, -EAGAIN, or an error. */
int tls_stream_flush(struct tls_stream *s);

/* Bytes queued and not yet taken by the socket. */
size_t tls_stream_unsent(const struct tls_stream *s);

/* The memory the queue holds: a queue that never empties is compacted,
 * so this stays near twice the unsent bytes (t/tls checks it). */
size_t tls_stream_queue_size(const struct tls_stream *s);

/*
 * Flushes, then sends close_notify: 0 when sent (or when there is no
 * session to close: the handshake never finished), -EAGAIN, or an error.
 */
int tls_stream_close_notify(struct tls_stream *s);

bool tls_stream_handshake_done(const struct tls_stream *s);
/* Whether the handshake resumed an earlier session. */
bool tls_stream_resumed(const struct tls_stream *s);
/* Whether ALPN "dot" was agreed on. */
bool tls_stream_alpn_dot(const struct tls_stream *s);
/* "TLSv1.3" and so on, once the handshake is done. */
const char *tls_stream_version(const struct tls_stream *s);
/* Why the stream failed, for the log; "" while it has not. */
const char *tls_stream_error(const struct tls_stream *s);

#endif /* MIODNSD_TLS_H */
