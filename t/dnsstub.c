/*
 * dnsstub.c - the loopback DNS stub of t/stub.h as a program, the upstream
 * of the miodnsd tests.
 *
 *   dnsstub [-6v] [-d] [-p port] [--delay ms] [--drop] [--servfail]
 *           [--truncate] [--split] [--no-edns] [--tag text] [--garble n]
 *
 * It binds 127.0.0.1 (or ::1 with -6) on the port given or an ephemeral
 * one, UDP and TCP alike. With -d it prints "PORT PID" on stdout once the
 * sockets are bound and goes to the background, so that a shell can write
 * set -- $(dnsstub -d); without it, it prints the port and serves in the
 * foreground. SIGTERM and SIGINT stop it.
 */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stub.h"

static struct stub *running;

static void
on_signal(int sig)
{
	(void)sig;
	if (running != NULL)
		stub_stop(running);
}

static void
usage(void)
{
	fprintf(stderr, "usage: dnsstub [-6dv] [-p port] [--delay ms] [--drop] "
	    "[--servfail] [--truncate] [--split] [--no-edns] [--tag text] "
	    "[--garble n]\n");
	exit(2);
}

static void
parse_args(int argc, char **argv, struct stub_config *config, bool *background)
{
	static const struct option longopts[] = {
		{ "delay", required_argument, NULL, 'D' },
		{ "drop", no_argument, NULL, 'X' },
		{ "servfail", no_argument, NULL, 'S' },
		{ "truncate", no_argument, NULL, 'T' },
		{ "split", no_argument, NULL, 's' },
		{ "no-edns", no_argument, NULL, 'E' },
		{ "tag", required_argument, NULL, 't' },
		{ "garble", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "6dp:v", longopts, NULL)) != -1) {
		switch (ch) {
		case '6': config->family = AF_INET6; break;
		case 'd': *background = true; break;
		case 'p': config->port = (uint16_t)atoi(optarg); break;
		case 'v': config->verbose = true; break;
		case 'D': config->delay_ms = atoi(optarg); break;
		case 'X': config->drop = true; break;
		case 'S': config->servfail = true; break;
		case 'T': config->truncate_udp = true; break;
		case 's': config->split_tcp = true; break;
		case 'E': config->no_edns = true; break;
		case 't': config->tag = optarg; break;
		case 'g': config->garble = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
}

/* Prints "PORT PID" for the child and leaves it running on its own. */
static void
go_background(uint16_t port)
{
	pid_t pid;
	int devnull;

	fflush(stdout);
	if ((pid = fork()) < 0) {
		perror("dnsstub: fork");
		exit(1);
	}
	if (pid > 0) {
		printf("%u %ld\n", port, (long)pid);
		exit(0);
	}
	setsid();
	/* The shell reading our stdout waits for its end: let go of it. */
	if ((devnull = open("/dev/null", O_RDWR)) >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
}

int
main(int argc, char **argv)
{
	struct stub_config config = { .family = 0 };
	struct sigaction sa;
	bool background = false;
	int rc;

	parse_args(argc, argv, &config, &background);
	if ((running = stub_new(&config)) == NULL) {
		perror("dnsstub: bind");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (background) {
		go_background(stub_port(running));
	} else {
		printf("%u\n", stub_port(running));
		fflush(stdout);
	}
	rc = stub_run(running);
	stub_free(running);
	return rc == 0 ? 0 : 1;
}
