/*
 * tls.c - the TLS engine of tls.h over OpenSSL 3: contexts for the DoT
 * listener and upstream client, and non-blocking streams driven by libmio's
 * edge-triggered events.
 *
 * OpenSSL's facts this file relies on (read in its 3.0 sources and man
 * pages, checked by t/tls):
 *  - SSL_ERROR_WANT_READ and SSL_ERROR_WANT_WRITE come only from a socket
 *    call that failed with EAGAIN, so the socket was drained (or full) and
 *    the next edge will come. Either can come from any operation: a read
 *    may have to write (a TLS 1.3 KeyUpdate answer, tickets the server
 *    could not send), a write or the handshake may have to read. Each
 *    operation's wait is therefore kept apart (struct tls_stream).
 *  - Decrypted data can sit in OpenSSL's buffers with the socket empty:
 *    SSL_has_pending(). After every call that touched the socket the read
 *    wait is dropped when it says so, so that no data waits for an edge
 *    that will never come.
 *  - A retried SSL_write() must get the same bytes; with
 *    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER they may move and the length may
 *    grow, which the queue here needs when a send reallocates it. With
 *    SSL_MODE_ENABLE_PARTIAL_WRITE each call returns after one record
 *    instead of holding the whole buffer until everything is out. But a
 *    retried call that sends the record it held and then blocks on the
 *    next returns -1, and the held record's bytes are only reported by a
 *    later call (if ever): unsent bytes would count bytes long in the
 *    kernel. Each call here is therefore given at most one record's worth,
 *    and a retry exactly the length that failed, so that a retry that
 *    sends its record returns its length (tls_stream_flush).
 *  - The peer's EOF without close_notify is SSL_ERROR_SSL with reason
 *    SSL_R_UNEXPECTED_EOF_WHILE_READING in 3.0 (SSL_ERROR_SYSCALL with
 *    errno 0 in 1.1.1); both become -ECONNRESET.
 *  - SSL_get_error() reads the thread's error queue, which must be empty
 *    before the call: every call here clears it first, and leaves it empty.
 *  - In TLS 1.3 the server's tickets arrive after the client's handshake
 *    has finished, during a later SSL_read(); the new-session callback
 *    stores a copy of each in the stream's slot (why a copy: there).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"

/* The queue never shrinks below this, so steady traffic does not realloc. */
#define TLS_QUEUE_MIN 4096
/* The most plaintext one TLS record carries (RFC 8446 5.1). */
#define TLS_RECORD_MAX 16384

/* ALPN "dot" (RFC 7858 has none; the IANA registry has "dot"), wire form. */
static const unsigned char tls_alpn_dot[] = {3, 'd', 'o', 't'};

struct tls_ctx {
	SSL_CTX *ssl_ctx;
	bool server;
	atomic_uint refs;
	atomic_ulong handshakes;
	atomic_ulong resumptions;
	atomic_ulong failures;
};

struct tls_stream {
	SSL *ssl;
	struct tls_ctx *ctx;
	struct tls_session_slot *slot;	/* client streams that resume */
	/* What each operation waits for: 0 (try it), or the readiness that
	 * its last attempt ended waiting for. */
	mio_interest wait_handshake, wait_read, wait_flush, wait_close;
	bool handshake_done;
	bool peer_closed;		/* close_notify received */
	bool close_sent;
	int failed;			/* 0, or the error every call returns */
	uint8_t *queue;			/* tls_stream_send()'s bytes */
	size_t queue_off, queue_len, queue_cap;
	/* The length of the SSL_write() that must be retried, 0 if none. */
	size_t write_len;
	char error[200];
};

/* ---- contexts ----------------------------------------------------------- */

/* Puts "what FILE: OpenSSL's reason" into err and empties the queue. */
static void
tls_ctx_explain(char *err, size_t errlen, const char *what, const char *file)
{
	char reason[160] = "unknown error";
	unsigned long e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	if (errlen > 0)
		snprintf(err, errlen, "%s %s: %s", what, file ? file : "", reason);
}

/* A file that cannot be opened gets its errno; OpenSSL's would be vague. */
static int
tls_ctx_readable(const char *file, char *err, size_t errlen, const char *what)
{
	if (access(file, R_OK) == 0)
		return 0;
	int rc = -errno;
	if (errlen > 0)
		snprintf(err, errlen, "%s %s: %s", what, file, strerror(-rc));
	return rc;
}

/* Everything both kinds of context share. */
static int
tls_ctx_common(struct tls_ctx **out, bool server, char *err, size_t errlen)
{
	struct tls_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return -ENOMEM;
	ERR_clear_error();
	ctx->ssl_ctx = SSL_CTX_new(server ? TLS_server_method() :
	    TLS_client_method());
	if (ctx->ssl_ctx == NULL) {
		tls_ctx_explain(err, errlen, "TLS context", NULL);
		free(ctx);
		return -ENOMEM;
	}
	ctx->server = server;
	atomic_init(&ctx->refs, 1);
	SSL_CTX_set_min_proto_version(ctx->ssl_ctx, TLS1_2_VERSION);
	/* TLS 1.2 renegotiation would let a peer restart the handshake in
	 * the middle of the stream; DNS has no use for it. */
	SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_NO_RENEGOTIATION);
	/* RELEASE_BUFFERS: an idle connection keeps no 34 KiB buffers. */
	SSL_CTX_set_mode(ctx->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	*out = ctx;
	return 0;
}

/* The server's ALPN choice: "dot" if offered, else no ALPN at all. */
static int
tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char *chosen = NULL;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&chosen, outlen, tls_alpn_dot,
	    sizeof(tls_alpn_dot), in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = chosen;
	return SSL_TLSEXT_ERR_OK;
}

int
tls_ctx_server_new(struct tls_ctx **out, const char *cert_file,
    const char *key_file, char *err, size_t errlen)
{
	struct tls_ctx *ctx;
	int rc;

	if ((rc = tls_ctx_readable(cert_file, err, errlen, "tls-cert")) != 0 ||
	    (rc = tls_ctx_readable(key_file, err, errlen, "tls-key")) != 0)
		return rc;
	if ((rc = tls_ctx_common(&ctx, true, err, errlen)) != 0)
		return rc;
	SSL_CTX *c = ctx->ssl_ctx;
	if (SSL_CTX_use_certificate_chain_file(c, cert_file) != 1) {
		tls_ctx_explain(err, errlen, "tls-cert", cert_file);
		goto invalid;
	}
	if (SSL_CTX_use_PrivateKey_file(c, key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(c) != 1) {
		tls_ctx_explain(err, errlen, "tls-key", key_file);
		goto invalid;
	}
	SSL_CTX_set_alpn_select_cb(c, tls_alpn_select, NULL);
	/* Tickets are OpenSSL's default; the id context is what a server
	 * session is tied to, so a ticket of another program's context
	 * sharing the key would not resume here. */
	SSL_CTX_set_session_id_context(c, (const unsigned char *)"miodnsd", 7);
	*out = ctx;
	return 0;
invalid:
	tls_ctx_free(ctx);
	return -EINVAL;
}

/*
 * Stores a copy of a new session (ticket) of a client stream in its slot.
 * A copy, because in TLS 1.3 the session handed over is the connection's
 * own, and SSL_free() of a connection that did not exchange close_notify
 * marks its session not resumable (ssl_clear_bad_session()): an upstream
 * connection that ends with an error, or is dropped, would otherwise take
 * the next connection's resumption with it.
 */
static int
tls_new_session(SSL *ssl, SSL_SESSION *session)
{
	struct tls_stream *s = SSL_get_app_data(ssl);
	SSL_SESSION *copy;

	if (s == NULL || s->slot == NULL ||
	    (copy = SSL_SESSION_dup(session)) == NULL)
		return 0;		/* OpenSSL keeps or frees its own */
	SSL_SESSION_free(s->slot->session);
	s->slot->session = copy;
	return 0;
}

int
tls_ctx_client_new(struct tls_ctx **out, const char *ca_file, char *err,
    size_t errlen)
{
	struct tls_ctx *ctx;
	int rc;

	if (ca_file != NULL &&
	    (rc = tls_ctx_readable(ca_file, err, errlen, "tls-ca")) != 0)
		return rc;
	if ((rc = tls_ctx_common(&ctx, false, err, errlen)) != 0)
		return rc;
	SSL_CTX *c = ctx->ssl_ctx;
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	if ((ca_file != NULL ? SSL_CTX_load_verify_locations(c, ca_file,
	    NULL) : SSL_CTX_set_default_verify_paths(c)) != 1) {
		tls_ctx_explain(err, errlen, "tls-ca", ca_file ? ca_file :
		    "(system store)");
		tls_ctx_free(ctx);
		return -EINVAL;
	}
	/* Sessions are kept by the slots, not in the context's cache. */
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(c, tls_new_session);
	if (SSL_CTX_set_alpn_protos(c, tls_alpn_dot, sizeof(tls_alpn_dot))) {
		tls_ctx_explain(err, errlen, "ALPN", NULL);
		tls_ctx_free(ctx);
		return -ENOMEM;
	}
	*out = ctx;
	return 0;
}

void
tls_ctx_max_tls12(struct tls_ctx *ctx)
{
	SSL_CTX_set_max_proto_version(ctx->ssl_ctx, TLS1_2_VERSION);
}

struct tls_ctx *
tls_ctx_ref(struct tls_ctx *ctx)
{
	if (ctx != NULL)
		atomic_fetch_add(&ctx->refs, 1);
	return ctx;
}

void
tls_ctx_free(struct tls_ctx *ctx)
{
	if (ctx == NULL || atomic_fetch_sub(&ctx->refs, 1) != 1)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

void
tls_ctx_counters(const struct tls_ctx *ctx, struct tls_counters *out)
{
	out->handshakes = atomic_load(&ctx->handshakes);
	out->resumptions = atomic_load(&ctx->resumptions);
	out->failures = atomic_load(&ctx->failures);
}

void
tls_session_slot_clear(struct tls_session_slot *slot)
{
	SSL_SESSION_free(slot->session);
	slot->session = NULL;
}

/* ---- streams: making them ------------------------------------------------ */

static int
tls_stream_new(struct tls_stream **out, struct tls_ctx *ctx, int fd)
{
	struct tls_stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	ERR_clear_error();
	if ((s->ssl = SSL_new(ctx->ssl_ctx)) == NULL ||
	    SSL_set_fd(s->ssl, fd) != 1) {
		ERR_clear_error();
		SSL_free(s->ssl);
		free(s);
		return -ENOMEM;
	}
	SSL_set_app_data(s->ssl, s);
	s->ctx = tls_ctx_ref(ctx);
	*out = s;
	return 0;
}

int
tls_stream_server_new(struct tls_stream **out, struct tls_ctx *ctx, int fd)
{
	int rc;

	if (!ctx->server)
		return -EINVAL;
	if ((rc = tls_stream_new(out, ctx, fd)) != 0)
		return rc;
	SSL_set_accept_state((*out)->ssl);
	return 0;
}

/* The name check of RFC 8310's strict profile, and SNI for names. */
static int
tls_stream_expect_name(SSL *ssl, const char *peer_name)
{
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
	unsigned char addr[16];

	if (inet_pton(AF_INET, peer_name, addr) == 1 ||
	    inet_pton(AF_INET6, peer_name, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(param, peer_name) == 1 ?
		    0 : -EINVAL;
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, peer_name) != 1 ||
	    SSL_set_tlsext_host_name(ssl, peer_name) != 1)
		return -EINVAL;
	return 0;
}

int
tls_stream_client_new(struct tls_stream **out, struct tls_ctx *ctx, int fd,
    const char *peer_name, struct tls_session_slot *slot)
{
	struct tls_stream *s;
	int rc;

	if (ctx->server || peer_name == NULL || *peer_name == '\0')
		return -EINVAL;
	if ((rc = tls_stream_new(&s, ctx, fd)) != 0)
		return rc;
	if ((rc = tls_stream_expect_name(s->ssl, peer_name)) != 0) {
		ERR_clear_error();
		tls_stream_free(s);
		return rc;
	}
	s->slot = slot;
	if (slot != NULL && slot->session != NULL)
		SSL_set_session(s->ssl, slot->session);
	SSL_set_connect_state(s->ssl);
	*out = s;
	return 0;
}

void
tls_stream_free(struct tls_stream *s)
{
	if (s == NULL)
		return;
	SSL_free(s->ssl);
	tls_ctx_free(s->ctx);
	free(s->queue);
	free(s);
}

/* ---- streams: readiness and results -------------------------------------- */

mio_interest
tls_event_interest(const mio_event *ev)
{
	mio_interest ready = 0;

	if (mio_event_is_readable(ev))
		ready |= MIO_READABLE;
	if (mio_event_is_writable(ev))
		ready |= MIO_WRITABLE;
	if (mio_event_is_error(ev) || mio_event_is_read_closed(ev) ||
	    mio_event_is_write_closed(ev))
		ready |= MIO_READABLE | MIO_WRITABLE;
	return ready;
}

void
tls_stream_ready(struct tls_stream *s, mio_interest ready)
{
	if (s->wait_handshake & ready)
		s->wait_handshake = 0;
	if (s->wait_read & ready)
		s->wait_read = 0;
	if (s->wait_flush & ready)
		s->wait_flush = 0;
	if (s->wait_close & ready)
		s->wait_close = 0;
}

/* After any call that may have read records: buffered data needs no edge. */
static void
tls_stream_note_pending(struct tls_stream *s)
{
	if (SSL_has_pending(s->ssl))
		s->wait_read = 0;
}

/* The sentence for a failure that SSL_ERROR_SSL reported. */
static int
tls_stream_ssl_failure(struct tls_stream *s)
{
	unsigned long e = ERR_peek_last_error();
	long verify = SSL_get_verify_result(s->ssl);

	if (!s->ctx->server && verify != X509_V_OK) {
		snprintf(s->error, sizeof(s->error),
		    "certificate refused: %s",
		    X509_verify_cert_error_string(verify));
		return -EPERM;
	}
	if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		snprintf(s->error, sizeof(s->error),
		    "connection closed without close_notify");
		return -ECONNRESET;
	}
	ERR_error_string_n(e, s->error, sizeof(s->error));
	return -EPROTO;
}

/*
 * Turns the result ret of an SSL_*() call into -EAGAIN and a wait, or into
 * the stream's failure. ZERO_RETURN (close_notify) is the caller's.
 */
static int
tls_stream_result(struct tls_stream *s, int ret, mio_interest *wait)
{
	int saved_errno = errno;
	int rc;

	switch (SSL_get_error(s->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		*wait = MIO_READABLE;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*wait = MIO_WRITABLE;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		s->peer_closed = true;
		return 0;
	case SSL_ERROR_SYSCALL:
		rc = saved_errno != 0 ? -saved_errno : -ECONNRESET;
		snprintf(s->error, sizeof(s->error), "%s", saved_errno != 0 ?
		    strerror(saved_errno) : "connection closed without close_notify");
		break;
	case SSL_ERROR_SSL:
		rc = tls_stream_ssl_failure(s);
		break;
	default:
		rc = -EPROTO;
		snprintf(s->error, sizeof(s->error), "unexpected TLS state");
		break;
	}
	ERR_clear_error();
	s->failed = rc;
	if (!s->handshake_done)
		atomic_fetch_add(&s->ctx->failures, 1);
	return rc;
}

/* ---- streams: operations ------------------------------------------------- */

int
tls_stream_handshake(struct tls_stream *s)
{
	int ret;

	if (s->failed)
		return s->failed;
	if (s->handshake_done)
		return 0;
	if (s->wait_handshake)
		return -EAGAIN;
	ERR_clear_error();
	if ((ret = SSL_do_handshake(s->ssl)) != 1) {
		int rc = tls_stream_result(s, ret, &s->wait_handshake);
		/* close_notify instead of a handshake: a cut connection. */
		return rc == 0 ? (s->failed = -ECONNRESET) : rc;
	}
	s->handshake_done = true;
	atomic_fetch_add(&s->ctx->handshakes, 1);
	if (SSL_session_reused(s->ssl))
		atomic_fetch_add(&s->ctx->resumptions, 1);
	tls_stream_note_pending(s);
	return 0;
}

ssize_t
tls_stream_read(struct tls_stream *s, void *buf, size_t len)
{
	int rc, ret;

	if ((rc = tls_stream_handshake(s)) != 0)
		return rc;
	if (s->peer_closed)
		return 0;
	if (s->wait_read && !SSL_has_pending(s->ssl))
		return -EAGAIN;
	s->wait_read = 0;
	ERR_clear_error();
	ret = SSL_read(s->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (ret > 0)
		return ret;
	rc = tls_stream_result(s, ret, &s->wait_read);
	tls_stream_note_pending(s);
	return rc;
}

bool
tls_stream_readable(const struct tls_stream *s)
{
	return s->failed != 0 || s->peer_closed || s->wait_read == 0 ||
	    SSL_has_pending(s->ssl);
}

/* Makes room for len more bytes at the queue's end. */
static int
tls_stream_queue_room(struct tls_stream *s, size_t len)
{
	size_t need, cap;
	uint8_t *q;

	if (s->queue_off > 0 && s->queue_off == s->queue_len)
		s->queue_off = s->queue_len = 0;
	/* Compacted once more than half is consumed, so that a queue that
	 * never empties (a client that keeps asking while it reads) does not
	 * grow without bound; moving a retried write's bytes is allowed. */
	if (s->queue_off > 0 && s->queue_off > s->queue_len / 2) {
		memmove(s->queue, s->queue + s->queue_off,
		    s->queue_len - s->queue_off);
		s->queue_len -= s->queue_off;
		s->queue_off = 0;
	}
	need = s->queue_len + len;
	if (need < len)
		return -ENOMEM;
	if (need <= s->queue_cap)
		return 0;
	cap = s->queue_cap < TLS_QUEUE_MIN ? TLS_QUEUE_MIN : s->queue_cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* A realloc moves bytes an SSL_write() may be retrying: allowed by
	 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER. */
	if ((q = realloc(s->queue, cap)) == NULL)
		return -ENOMEM;
	s->queue = q;
	s->queue_cap = cap;
	return 0;
}

int
tls_stream_queue(struct tls_stream *s, const void *buf, size_t len)
{
	int rc;

	if (s->failed)
		return s->failed;
	if (s->close_sent)
		return -EPIPE;
	if ((rc = tls_stream_queue_room(s, len)) != 0)
		return rc;
	memcpy(s->queue + s->queue_len, buf, len);
	s->queue_len += len;
	return 0;
}

int
tls_stream_send(struct tls_stream *s, const void *buf, size_t len)
{
	int rc;

	if ((rc = tls_stream_queue(s, buf, len)) != 0)
		return rc;
	rc = tls_stream_flush(s);
	return rc == -EAGAIN ? 0 : rc;
}

int
tls_stream_flush(struct tls_stream *s)
{
	int rc, ret;

	if ((rc = tls_stream_handshake(s)) != 0)
		return rc;
	while (s->queue_off < s->queue_len) {
		size_t left = s->queue_len - s->queue_off;

		if (s->wait_flush)
			return -EAGAIN;
		if (s->write_len == 0)
			s->write_len = left < TLS_RECORD_MAX ? left :
			    TLS_RECORD_MAX;
		ERR_clear_error();
		ret = SSL_write(s->ssl, s->queue + s->queue_off,
		    (int)s->write_len);
		tls_stream_note_pending(s);
		if (ret <= 0) {
			rc = tls_stream_result(s, ret, &s->wait_flush);
			return rc == 0 ? -EPIPE : rc;
		}
		s->write_len = 0;
		s->queue_off += (size_t)ret;
	}
	s->queue_off = s->queue_len = 0;
	return 0;
}

size_t
tls_stream_unsent(const struct tls_stream *s)
{
	return s->queue_len - s->queue_off;
}

size_t
tls_stream_queue_size(const struct tls_stream *s)
{
	return s->queue_cap;
}

int
tls_stream_close_notify(struct tls_stream *s)
{
	int rc, ret;

	if (s->close_sent || !s->handshake_done)
		return s->failed;
	if ((rc = tls_stream_flush(s)) != 0)
		return rc;
	if (s->wait_close)
		return -EAGAIN;
	ERR_clear_error();
	/* 0: ours sent, the peer's not seen (we do not wait for it); 1: both. */
	if ((ret = SSL_shutdown(s->ssl)) >= 0) {
		s->close_sent = true;
		return 0;
	}
	return tls_stream_result(s, ret, &s->wait_close);
}

bool
tls_stream_handshake_done(const struct tls_stream *s)
{
	return s->handshake_done;
}

bool
tls_stream_resumed(const struct tls_stream *s)
{
	return s->handshake_done && SSL_session_reused(s->ssl);
}

bool
tls_stream_alpn_dot(const struct tls_stream *s)
{
	const unsigned char *proto = NULL;
	unsigned int len = 0;

	SSL_get0_alpn_selected(s->ssl, &proto, &len);
	return len == 3 && memcmp(proto, "dot", 3) == 0;
}

const char *
tls_stream_version(const struct tls_stream *s)
{
	return s->handshake_done ? SSL_get_version(s->ssl) : "";
}

const char *
tls_stream_error(const struct tls_stream *s)
{
	return s->error;
}
