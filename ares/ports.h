/*
 * ports.h - internal to libmio-ares: a fresh UDP socket, on a random port,
 * for every query c-ares sends (mio_ares_use_fresh_ports()).
 *
 * c-ares 1.18 keeps one UDP socket per server while any query is
 * outstanding, so under load every query leaves from the same port and
 * only the 16-bit ID protects it against forged answers (RFC 5452 section
 * 9.2, DNSpooq). Through ares_set_socket_functions() this module gives
 * c-ares a *handle* instead of a real UDP socket: an unbound, unconnected
 * UDP descriptor that is never used for I/O. c-ares "connects" it (the
 * server's address is noted) and "sends" on it: each send opens a new
 * socket bound to a random port, connect()ed to the server (so the kernel
 * drops datagrams from any other address or port), registered with the
 * registry. Its answer, if its ID is the one sent, is handed to c-ares
 * as if read from the handle (ares_process_fd() on the handle, whose
 * arecvfrom() returns it), and the socket is closed. TCP sockets pass
 * straight through.
 *
 * The owner (mio-ares.c) routes events whose token lies in the range it
 * gave here to mio__ares_ports_event(), calls mio__ares_ports_expire()
 * after each poll, and counts its depth around both, as around every call
 * into c-ares.
 */
#ifndef MIO_ARES_PORTS_H
#define MIO_ARES_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#include <ares.h>
#include <mio.h>

#include "mio-ares.h"

/* Low token bits used for a socket's generation (see mio-ares.c note c). */
#define MIO__ARES_GEN_BITS 6

struct mio__ares_ports;

/* Tokens are token_base + (index << MIO__ARES_GEN_BITS | generation) for
 * index < max_sockets; a socket lives at most lifetime_ms unanswered. */
int mio__ares_ports_new(const mio_registry *registry, uintptr_t token_base,
    uint32_t max_sockets, long lifetime_ms, struct mio__ares_ports **out);
/* Closes whatever is still open; the channel must be destroyed first. */
void mio__ares_ports_free(struct mio__ares_ports *p);
/* Installs the socket functions on channel; before its first query. */
void mio__ares_ports_attach(struct mio__ares_ports *p, ares_channel channel);
/* Whether c-ares' descriptor fd is a handle (never to be registered). */
bool mio__ares_ports_is_handle(const struct mio__ares_ports *p, int fd);
/* Reads and delivers the answers of the query socket token names. */
void mio__ares_ports_event(struct mio__ares_ports *p, mio_token token);
/* Closes the query sockets whose lifetime is over. */
void mio__ares_ports_expire(struct mio__ares_ports *p);
size_t mio__ares_ports_live(const struct mio__ares_ports *p);
/* Milliseconds until mio__ares_ports_expire() has a socket to close, or
 * -1 while none is open. */
int64_t mio__ares_ports_next_expiry_ms(const struct mio__ares_ports *p);
void mio__ares_ports_stats(const struct mio__ares_ports *p,
    struct mio_ares_port_stats *out);

#endif /* MIO_ARES_PORTS_H */
