/*
 * conf-tls.c - the TLS contexts of a configuration (conf.h): made from its
 * files, and referenced by every copy of it that is kept.
 *
 * A file of its own so that the programs that compile conf.c in without
 * the TLS engine (t/query) need not link OpenSSL; without HAVE_TLS the
 * contexts are always NULL and these functions have nothing to do.
 */
#include "config.h"

#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#ifdef HAVE_TLS
#include "core/tls.h"
#endif

/* The TLS contexts the configuration asks for; 0 or -1 after logging. */
int
config_make_tls(struct config *conf)
{
#ifdef HAVE_TLS
	char err[400];

	conf->tls_server = conf->tls_client = NULL;
	if (conf->nlisten_tls > 0 && tls_ctx_server_new(&conf->tls_server,
	    conf->tls_cert, conf->tls_key, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return -1;
	}
	if (conf->nupstream_tls > 0 && tls_ctx_client_new(&conf->tls_client,
	    conf->tls_ca[0] != '\0' ? conf->tls_ca : NULL, err,
	    sizeof(err)) != 0) {
		log_warnx("%s", err);
		config_release(conf);
		return -1;
	}
#endif
	(void)conf;
	return 0;
}

void
config_hold(struct config *conf)
{
#ifdef HAVE_TLS
	tls_ctx_ref(conf->tls_server);
	tls_ctx_ref(conf->tls_client);
#endif
	(void)conf;
}

void
config_release(struct config *conf)
{
#ifdef HAVE_TLS
	tls_ctx_free(conf->tls_server);
	tls_ctx_free(conf->tls_client);
#endif
	conf->tls_server = conf->tls_client = NULL;
}

void
config_keep_tls_upstreams(struct config *to, const struct config *from)
{
	memcpy(to->upstream_tls, from->upstream_tls, sizeof(to->upstream_tls));
	memcpy(to->upstream_tls_name, from->upstream_tls_name,
	    sizeof(to->upstream_tls_name));
	to->nupstream_tls = from->nupstream_tls;
	memcpy(to->tls_ca, from->tls_ca, sizeof(to->tls_ca));
#ifdef HAVE_TLS
	tls_ctx_free(to->tls_client);
	to->tls_client = tls_ctx_ref(from->tls_client);
#endif
}
