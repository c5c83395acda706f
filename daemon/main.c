/*
 * main.c - miodnsd: options, configuration, set-up, the event loop,
 * reload and shutdown.
 *
 * Set-up order matters: with -d the process forks first (before any poll
 * exists, see main_setup), then the main thread becomes worker 0 and
 * binds the listening sockets (they may need root), the other workers
 * start and bind theirs, the pidfile and port file are written,
 * privileges dropped, and only then do the workers start serving. The
 * parent exits only when the child is ready, so that "miodnsd -d && dig
 * ..." works. The loop itself is worker.c's.
 *
 * Signals are turned into loop events of worker 0 by signals.c, which
 * reads them into worker 0's signal set; main_between(), the hook worker
 * 0 calls at the top of every round of its loop, acts on the set (reload,
 * shutdown, counters), between batches of events, never inside an event
 * handler or a c-ares callback.
 *
 * Zones load with the configuration, before anything is bound, so that a
 * broken zone file stops the start (and -n) with its file and line; on
 * SIGHUP they load into a new set that replaces the old one only if
 * everything loaded.
 */
#include "config.h"

#include <ares.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/acl.h"
#include "core/conf.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/stats.h"
#include "front/front.h"
#include "resolve/cached.h"
#include "resolve/local.h"
#include "resolve/upstream.h"
#include "worker.h"
#include "zone.h"

/* How long a reload waits for the workers to take it. */
#define MAIN_RELOAD_WAIT_MS 2000
/* getopt_long()'s value for the long options that are keywords. */
#define MAIN_KEYWORD 256

/* The command line, kept to be applied again on every reload. */
struct cmdline {
	char config_file[PATH_MAX];
	bool check_only;
	bool daemonize;
	int verbosity;
	char *listen[MIODNSD_MAX_LISTEN + 1];
	int nlisten;
	char *upstream[MIODNSD_MAX_UPSTREAM + 1];
	int nupstream;
	/* -z ORIGIN=FILE as "ORIGIN /absolute/file", the "zone" keyword's
	 * value, since the daemon reloads from "/". */
	char zone[MIODNSD_MAX_ZONES][800];
	int nzones;
	char *allow_stats[MIODNSD_MAX_ALLOW + 1];
	int nallow_stats;
	/* Single-valued settings as configuration keywords. */
	const char *keys[32];
	const char *values[32];
	int nsettings;
};

static struct {
	struct cmdline cmd;
	struct config conf;
	struct zone_set *zones;	/* loaded, not yet published */
	struct worker *w0;	/* this thread's worker */
	int ready_fd;		/* -d: tells the waiting parent we are up */
	bool wrote_pidfile;
} m = { .ready_fd = -1 };

static __attribute__((__noreturn__)) void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: miodnsd [-dhnqvV] [-c file] [-l addr:port] "
	    "[-u addr[:port]]\n"
	    "               [-z origin=file] [-t threads] [-p pidfile] "
	    "[-P portfile]\n"
	    "               [--timeout ms]\n"
	    "               [--user user] [--allow-stats prefix] "
	    "[--builtin-zones mode]\n"
	    "               [--cache-size n] [--cache-bytes n] [--min-ttl s] "
	    "[--max-ttl s]\n"
	    "               [--max-negative-ttl s] [--max-waiters n]\n"
	    "               [--access-control 'prefix allow|refuse|deny'] "
	    "[--ratelimit n]\n"
	    "With no options: listen on %s (UDP and TCP), answer for\n"
	    "localhost. and example.test., and forward the rest to the\n"
	    "nameservers of %s. See miodnsd(8).\n",
	    MIODNSD_DEFAULT_LISTEN, MIODNSD_RESOLV_CONF);
	exit(status);
}

static void
main_add_setting(struct cmdline *cmd, const char *key, const char *value)
{
	if (cmd->nsettings == (int)(sizeof(cmd->keys) / sizeof(cmd->keys[0])))
		usage(1);
	cmd->keys[cmd->nsettings] = key;
	cmd->values[cmd->nsettings++] = value;
}

/* -z ORIGIN=FILE: the file made absolute now, while the working
 * directory is the user's. */
static void
main_add_zone(struct cmdline *cmd, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char path[PATH_MAX];

	if (eq == NULL || eq == arg || eq[1] == '\0')
		fatalx("-z %s: want ORIGIN=FILE", arg);
	if (cmd->nzones == MIODNSD_MAX_ZONES)
		fatalx("too many -z options");
	if (config_absolute_path(eq + 1, NULL, path, sizeof(path)) != 0)
		exit(1);
	if (snprintf(cmd->zone[cmd->nzones], sizeof(cmd->zone[0]), "%.*s %s",
	    (int)(eq - arg), arg, path) >= (int)sizeof(cmd->zone[0]))
		fatalx("-z %s: too long", arg);
	cmd->nzones++;
}

/* The long options; the single letters are in main_parse_args(). */
static const struct option main_longopts[] = {
	{ "allow-stats", required_argument, NULL, 'A' },
	{ "builtin-zones", required_argument, NULL, 'B' },
	{ "user", required_argument, NULL, 'U' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	/* The rest set the configuration keyword of the same name. */
	{ "cache-size", required_argument, NULL, MAIN_KEYWORD },
	{ "cache-bytes", required_argument, NULL, MAIN_KEYWORD },
	{ "min-ttl", required_argument, NULL, MAIN_KEYWORD },
	{ "max-ttl", required_argument, NULL, MAIN_KEYWORD },
	{ "max-negative-ttl", required_argument, NULL, MAIN_KEYWORD },
	{ "max-waiters", required_argument, NULL, MAIN_KEYWORD },
	{ "access-control", required_argument, NULL, MAIN_KEYWORD },
	{ "ratelimit", required_argument, NULL, MAIN_KEYWORD },
	{ "timeout", required_argument, NULL, MAIN_KEYWORD },
	{ "threads", required_argument, NULL, MAIN_KEYWORD },
	{ NULL, 0, NULL, 0 },
};

static void
main_parse_args(int argc, char **argv, struct cmdline *cmd)
{
	int ch, index;

	while ((ch = getopt_long(argc, argv, "c:dhl:nP:p:qt:u:vVz:",
		    main_longopts, &index)) != -1) {
		switch (ch) {
		case MAIN_KEYWORD:
			main_add_setting(cmd, main_longopts[index].name, optarg);
			break;
		case 'A':
			if (cmd->nallow_stats == MIODNSD_MAX_ALLOW)
				fatalx("too many --allow-stats options");
			cmd->allow_stats[cmd->nallow_stats++] = optarg;
			break;
		case 'B': main_add_setting(cmd, "builtin-zones", optarg); break;
		case 'c':
			/* Absolute, because a daemon reloads from "/". */
			if (realpath(optarg, cmd->config_file) == NULL)
				fatal("%s", optarg);
			break;
		case 'd': cmd->daemonize = true; break;
		case 'h': usage(0);
		case 'l':
			if (cmd->nlisten == MIODNSD_MAX_LISTEN)
				fatalx("too many -l options");
			cmd->listen[cmd->nlisten++] = optarg;
			break;
		case 'n': cmd->check_only = true; break;
		case 'P': main_add_setting(cmd, "port-file", optarg); break;
		case 'p': main_add_setting(cmd, "pidfile", optarg); break;
		case 'q': cmd->verbosity--; break;
		case 't': main_add_setting(cmd, "threads", optarg); break;
		case 'u':
			if (cmd->nupstream == MIODNSD_MAX_UPSTREAM)
				fatalx("too many -u options");
			cmd->upstream[cmd->nupstream++] = optarg;
			break;
		case 'U': main_add_setting(cmd, "user", optarg); break;
		case 'v': cmd->verbosity++; break;
		case 'z': main_add_zone(cmd, optarg); break;
		case 'V':
			printf("miodnsd %s (libmio %s, %s; c-ares %s)\n",
			    PACKAGE_VERSION, mio_version(), mio_backend(),
			    ares_version(NULL));
			exit(0);
		default: usage(1);
		}
	}
	if (optind != argc)
		usage(1);
}

/* Defaults, then the file, then the command line, then what is implied;
 * prev, on a reload, is the running configuration (for config_make_tls). */
static int
main_build_config(const struct cmdline *cmd, struct config *conf,
    const struct config *prev)
{
	int errors = 0;

	config_defaults(conf);
	if (cmd->config_file[0] != '\0' &&
	    config_load_file(conf, cmd->config_file) != 0)
		return -1;
	if (cmd->nlisten > 0)
		conf->nlisten = 0;
	for (int i = 0; i < cmd->nlisten; i++)
		errors += config_set(conf, "listen", cmd->listen[i]) != 0;
	if (cmd->nupstream > 0)
		conf->nupstream = 0;
	for (int i = 0; i < cmd->nupstream; i++)
		errors += config_set(conf, "upstream", cmd->upstream[i]) != 0;
	for (int i = 0; i < cmd->nzones; i++)
		errors += config_set(conf, "zone", cmd->zone[i]) != 0;
	if (cmd->nallow_stats > 0) {
		conf->nallow_stats = 0;
		conf->allow_stats_set = false;
	}
	for (int i = 0; i < cmd->nallow_stats; i++)
		errors += config_set(conf, "allow-stats",
		    cmd->allow_stats[i]) != 0;
	for (int i = 0; i < cmd->nsettings; i++)
		errors += config_set(conf, cmd->keys[i], cmd->values[i]) != 0;
	if (cmd->daemonize && conf->pidfile[0] == '\0')
		snprintf(conf->pidfile, sizeof(conf->pidfile), "%s",
		    MIODNSD_PIDFILE);
	if (errors > 0 || config_finish(conf) != 0)
		return -1;
	return config_make_tls(conf, prev);
}

static void
main_log_counters(void)
{
	struct counters total;

	stats_total(&total);
	stats_log(&total);
	if (worker_count() > 1)
		stats_log_workers();
	resolve_log_cache();
	upstreams_log_counters(m.w0->upstreams, worker_count());
}

/* Descriptors a worker holds besides its queries' and connections': its
 * poll, wakeup and timer descriptors, the spare for EMFILE, c-ares and
 * upstream TCP or TLS; and those of the process (standard streams, log). */
#define MAIN_FDS_PER_WORKER 24
#define MAIN_FDS_PROCESS 16
/* max-inflight is never fitted below this. */
#define MAIN_MIN_INFLIGHT 64

/*
 * Every query in flight may hold a socket of its own (a fresh source port
 * each), every TCP client one, every listener two: with the common soft
 * limit of 1,024 descriptors, 2,048 queries per worker would lose answers
 * to EMFILE. The soft limit is raised to the hard one (allowed without
 * privileges); if that is still short, max-inflight is lowered to fit,
 * with a warning, at start and at every reload.
 */
static void
main_fit_descriptors(struct config *conf)
{
	struct rlimit rl;
	unsigned long per_worker, fixed, fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit raised = { rl.rlim_max, rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl = raised;
	}
	fixed = MAIN_FDS_PER_WORKER + conf->max_tcp_clients +
	    2 * (unsigned long)(conf->nlisten + conf->nlisten_tls) +
	    2 * (unsigned long)(conf->nupstream + conf->nupstream_tls);
	if (rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= MAIN_FDS_PROCESS + (unsigned long)conf->threads *
	    (fixed + conf->max_inflight))
		return;
	per_worker = rl.rlim_cur > MAIN_FDS_PROCESS ?
	    (rl.rlim_cur - MAIN_FDS_PROCESS) / conf->threads : 0;
	fit = per_worker > fixed ? per_worker - fixed : 0;
	if (fit < MAIN_MIN_INFLIGHT)
		fit = MAIN_MIN_INFLIGHT;
	if (fit >= conf->max_inflight)
		return;
	log_warnx("%lu descriptors (RLIMIT_NOFILE) for %u worker%s: "
	    "max-inflight lowered from %u to %lu per worker; raise the limit "
	    "(ulimit -n, LimitNOFILE=) to keep it", (unsigned long)rl.rlim_cur,
	    conf->threads, conf->threads == 1 ? "" : "s", conf->max_inflight,
	    fit);
	conf->max_inflight = (unsigned)fit;
}

/* What may change only on restart keeps its running value. */
static void
main_keep_restart_settings(struct config *conf)
{
	if (strcmp(conf->user, m.conf.user) != 0 ||
	    strcmp(conf->pidfile, m.conf.pidfile) != 0 ||
	    conf->threads != m.conf.threads)
		log_warnx("reload: user, pidfile and threads change only on "
		    "restart");
	snprintf(conf->user, sizeof(conf->user), "%s", m.conf.user);
	snprintf(conf->pidfile, sizeof(conf->pidfile), "%s", m.conf.pidfile);
	conf->threads = m.conf.threads;
	main_fit_descriptors(conf);
}

/* SIGHUP: a new configuration and new zones, the same listening sockets
 * where the addresses did not change. A configuration or a zone that does
 * not load changes nothing. Worker 0 (this thread) tries the listeners and
 * upstreams first; the others follow what it publishes. */
static void
main_reload(void)
{
	struct worker *w0 = m.w0;
	struct config conf;
	struct zone_set *zones;
	bool upstreams_changed;

	if (main_build_config(&m.cmd, &conf, &m.conf) != 0) {
		log_warnx("reload failed: keeping the running configuration "
		    "and zones");
		return;
	}
	if (local_zones_load(&conf, &zones) != 0) {
		log_warnx("reload failed: keeping the running configuration "
		    "and zones");
		config_release(&conf);
		return;
	}
	main_keep_restart_settings(&conf);
	if (listener_configure(&w0->front, &conf, NULL) != 0)
		log_warnx("reload: some addresses could not be opened");
	upstreams_changed = !config_same_upstreams(&conf, &m.conf);
	if (upstreams_configure(w0->upstreams, &conf) != 0) {
		log_warnx("reload: keeping the previous upstreams");
		memcpy(conf.upstream, m.conf.upstream, sizeof(conf.upstream));
		conf.nupstream = m.conf.nupstream;
		config_keep_tls_upstreams(&conf, &m.conf);
		conf.upstream_timeout_ms = m.conf.upstream_timeout_ms;
		conf.edns_size = m.conf.edns_size;
		upstreams_changed = false;
	}
	/* The cached answers are the old upstreams': flushed if those
	 * changed, kept otherwise. */
	if (resolve_cache_configure(&conf, upstreams_changed) != 0)
		log_warnx("reload: keeping the previous cache settings");
	else if (upstreams_changed)
		log_info("reload: new upstreams, cache flushed");
	worker_publish(&conf, zones, resolve_shared_cache());
	zone_set_free(zones);
	config_release(&m.conf);
	m.conf = conf;
	(void)worker_apply(w0);
	if (!worker_wait_applied(MAIN_RELOAD_WAIT_MS))
		log_warnx("reload: a worker is slow to take the new "
		    "configuration");
	if (conf.portfile[0] != '\0')
		listener_write_portfile(&w0->front, conf.portfile);
	log_info("configuration reloaded");
}

/* Worker 0's hook, at the top of every round of its loop: acts on the
 * signals that arrived. A second SIGTERM ends everything at once; a
 * reload once the shutdown began is ignored. */
static void
main_between(struct worker *w0)
{
	struct signal_set set = w0->signals;

	memset(&w0->signals, 0, sizeof(w0->signals));
	for (unsigned i = 0; i < set.shutdowns; i++)
		worker_request_shutdown(set.shutdown_signal);
	if (set.reload && !w0->shutting_down && set.shutdowns == 0)
		main_reload();
	if (set.log_counters)
		main_log_counters();
}

/* -d, first half: fork; the parent waits until the child says it is up
 * (or dies) and exits with 0 (or 1). */
static void
main_daemonize(void)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC) != 0)
		fatal("pipe");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	m.ready_fd = fds[1];
	if (setsid() < 0)
		fatal("setsid");
}

/* -d, second half: detach from the terminal and release the parent. */
static void
main_daemon_ready(void)
{
	int fd;

	if (m.ready_fd < 0)
		return;
	if (chdir("/") != 0)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	log_to_syslog();
	if (write(m.ready_fd, "", 1) != 1)
		log_warn("telling the parent we are up");
	close(m.ready_fd);
	m.ready_fd = -1;
}

static void
main_write_pidfile(const char *path)
{
	FILE *f;

	if (path[0] == '\0')
		return;
	if ((f = fopen(path, "we")) == NULL ||
	    fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0)
		fatal("%s", path);
	m.wrote_pidfile = true;
}

static void
main_drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user[0] == '\0')
		return;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("unknown user %s", user);
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
		return;
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0)
		fatal("running as %s", user);
	log_info("running as %s", user);
}

/* Worker 0's listeners and channels, the shared cache, then the other
 * workers, configured from what worker 0 published. */
static void
main_start_workers(void)
{
	int rc;

	if ((rc = worker_init_main(&m.w0)) != 0)
		fatalx("libmio: %s", mio_strerror(rc));
	if (listener_configure(&m.w0->front, &m.conf, NULL) != 0)
		fatalx("cannot listen on every configured address");
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		fatalx("ares_library_init failed");
	if (upstreams_configure(m.w0->upstreams, &m.conf) != 0)
		fatalx("cannot set up the upstream servers");
	if (resolve_cache_configure(&m.conf, false) != 0)
		fatalx("cannot set up the cache");
	worker_publish(&m.conf, m.zones, resolve_shared_cache());
	zone_set_free(m.zones);
	m.zones = NULL;
	if (worker_apply(m.w0) != 0)
		fatalx("cannot set up the first worker");
	if (workers_spawn(m.conf.threads) != 0)
		fatalx("cannot start %u worker threads", m.conf.threads);
}

static void
main_setup(void)
{
	int rc;

	/* Fork before any poll exists: a kqueue is not inherited by a child
	 * (kqueue(2)), and libkqueue behaves the same. The parent waits for
	 * the child's word, so errors below still reach the command. */
	if (m.cmd.daemonize)
		main_daemonize();
	main_start_workers();
	main_write_pidfile(m.conf.pidfile);
	if (m.conf.portfile[0] != '\0' &&
	    listener_write_portfile(&m.w0->front, m.conf.portfile) != 0)
		fatalx("cannot write the port file");
	main_drop_privileges(m.conf.user);
	stats_start();
	if ((rc = signals_init(mio_poll_registry(m.w0->poll),
	    (mio_token)&m.w0->signals_handle)) != 0)
		fatalx("signals: %s", mio_strerror(rc));
	log_info("miodnsd %s: libmio %s (%s), c-ares %s, deadline %u ms, "
	    "%u thread%s", PACKAGE_VERSION, mio_version(), mio_backend(),
	    ares_version(NULL), m.conf.timeout_ms, m.conf.threads,
	    m.conf.threads == 1 ? "" : "s");
	main_daemon_ready();
	workers_go();
}

static void
main_cleanup(void)
{
	signals_fini(mio_poll_registry(m.w0->poll));
	worker_fini(m.w0);
	resolve_cache_fini();
	workers_free();
	config_release(&m.conf);
	ares_library_cleanup();
	if (m.wrote_pidfile)
		unlink(m.conf.pidfile);
	log_info("exiting");
}

/* Once at start: a listener others can reach, and nobody configured who
 * may use it. The default list refuses them (loopback only), which is
 * safe but may surprise; unbound behaves the same and says nothing. */
static void
main_warn_access(const struct config *conf)
{
	char buf[64];

	if (conf->naccess > 0)
		return;
	for (int i = 0; i < conf->nlisten; i++) {
		if (acl_is_loopback((const struct sockaddr *)
		    &conf->listen[i].ss))
			continue;
		log_warnx("listening on %s without any access-control line: "
		    "only loopback clients are served, others are REFUSED",
		    addr_str(&conf->listen[i], buf, sizeof(buf)));
		return;
	}
}

int
main(int argc, char **argv)
{
	log_init(true, 0);
	main_parse_args(argc, argv, &m.cmd);
	log_set_verbosity(m.cmd.verbosity);
	if (main_build_config(&m.cmd, &m.conf, NULL) != 0)
		fatalx("configuration failed");
	if (local_zones_load(&m.conf, &m.zones) != 0)
		fatalx("a zone did not load: not starting");
	if (m.cmd.check_only) {
		zone_set_free(m.zones);
		fprintf(stderr, "configuration OK\n");
		return 0;
	}
	/* c-ares writes to TCP sockets with writev(), which raises SIGPIPE
	 * on a closed connection. */
	signal(SIGPIPE, SIG_IGN);
	main_fit_descriptors(&m.conf);
	main_warn_access(&m.conf);
	main_setup();
	worker_loop(m.w0, main_between);
	workers_join();
	if (log_get_verbosity() > 0)
		main_log_counters();
	main_cleanup();
	return 0;
}
