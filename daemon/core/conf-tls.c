/*
 * conf-tls.c - the TLS contexts of a configuration (conf.h): made from its
 * files, and referenced by every copy of it that is kept.
 *
 * A reload keeps the running server context when the certificate and key
 * files are the same files, unchanged (device, inode, size, modification
 * time), so that clients resume their sessions across it; a renewed
 * certificate, even at the same path, makes a new context.
 *
 * A file of its own so that the programs that compile conf.c in without
 * the TLS engine (t/query) need not link OpenSSL; without HAVE_TLS the
 * contexts are always NULL and these functions have nothing to do.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/conf.h"
#include "core/log.h"
#ifdef HAVE_TLS
#include "core/tls.h"
#endif

#ifdef HAVE_TLS
/* Where the certificate and key files are and when they changed, as text;
 * "" if one cannot be looked at (then the context cannot be made either). */
static void
config_tls_stamp(struct config *conf)
{
	struct stat c, k;

	conf->tls_server_stamp[0] = '\0';
	if (stat(conf->tls_cert, &c) != 0 || stat(conf->tls_key, &k) != 0)
		return;
	snprintf(conf->tls_server_stamp, sizeof(conf->tls_server_stamp),
	    "%ju:%ju:%jd:%jd.%ld %ju:%ju:%jd:%jd.%ld",
	    (uintmax_t)c.st_dev, (uintmax_t)c.st_ino, (intmax_t)c.st_size,
	    (intmax_t)c.st_mtim.tv_sec, c.st_mtim.tv_nsec,
	    (uintmax_t)k.st_dev, (uintmax_t)k.st_ino, (intmax_t)k.st_size,
	    (intmax_t)k.st_mtim.tv_sec, k.st_mtim.tv_nsec);
}

/* The running server context, if prev's files are conf's, unchanged. */
static struct tls_ctx *
config_tls_keep(const struct config *conf, const struct config *prev)
{
	if (prev == NULL || prev->tls_server == NULL ||
	    conf->tls_server_stamp[0] == '\0' ||
	    strcmp(conf->tls_cert, prev->tls_cert) != 0 ||
	    strcmp(conf->tls_key, prev->tls_key) != 0 ||
	    strcmp(conf->tls_server_stamp, prev->tls_server_stamp) != 0)
		return NULL;
	return tls_ctx_ref(prev->tls_server);
}
#endif

/* The TLS contexts the configuration asks for; 0 or -1 after logging. */
int
config_make_tls(struct config *conf, const struct config *prev)
{
#ifdef HAVE_TLS
	char err[400];

	conf->tls_server = conf->tls_client = NULL;
	if (conf->nlisten_tls > 0) {
		config_tls_stamp(conf);
		conf->tls_server = config_tls_keep(conf, prev);
	}
	if (conf->nlisten_tls > 0 && conf->tls_server == NULL &&
	    tls_ctx_server_new(&conf->tls_server, conf->tls_cert,
	    conf->tls_key, err, sizeof(err)) != 0) {
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
	(void)prev;
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
