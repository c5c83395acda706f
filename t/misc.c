/*
 * t/misc.c - mio_strerror, mio_backend, mio_version and the version
 * macros, and close-on-exec of every descriptor libmio creates, checked
 * across an exec.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static void
strerror_names(void)
{
	ok(strstr(mio_strerror(-EAGAIN), "EAGAIN") != NULL,
	    "mio_strerror(-EAGAIN) names EAGAIN: %s", mio_strerror(-EAGAIN));
	ok(strstr(mio_strerror(-EEXIST), "already registered") != NULL,
	    "-EEXIST reads as already registered");
	is_string(mio_strerror(0), "success", "0 is success");
	is_string(mio_strerror(-99999), "unknown error",
	    "an unknown code is still a string");
	ok(mio_strerror(5) != NULL, "a positive value is still a string");
}

static void
identity(void)
{
	is_string(mio_backend(), MIO_BACKEND_NAME,
	    "mio_backend() is the configured backend");
	is_string(mio_version(), PACKAGE_VERSION, "mio_version() is %s",
	    PACKAGE_VERSION);
}

/*
 * The header's version macros, the run-time calls and the package version
 * must agree: all four come from configure.ac's AC_INIT, so a mismatch
 * means a header or a library from another build.
 */
static void
version_macros(void)
{
	char parts[32];

	snprintf(parts, sizeof(parts), "%d.%d.%d", MIO_VERSION_MAJOR,
	    MIO_VERSION_MINOR, MIO_VERSION_PATCH);
	is_string(parts, PACKAGE_VERSION,
	    "MIO_VERSION_MAJOR.MINOR.PATCH is the package version");
	is_string(MIO_VERSION_STRING, PACKAGE_VERSION,
	    "MIO_VERSION_STRING is the package version");
	is_int(MIO_VERSION_HEX,
	    MIO_VERSION_MAJOR * 65536 + MIO_VERSION_MINOR * 256 +
		MIO_VERSION_PATCH,
	    "MIO_VERSION_HEX packs the three parts as 0x%06x",
	    (unsigned)MIO_VERSION_HEX);
	is_int((long long)mio_version_hex(), MIO_VERSION_HEX,
	    "mio_version_hex() is the headers' MIO_VERSION_HEX");
#if MIO_VERSION_HEX < 0x000100
	ok(false, "MIO_VERSION_HEX is usable in #if and at least 0.1.0");
#else
	ok(true, "MIO_VERSION_HEX is usable in #if and at least 0.1.0");
#endif
}

/*
 * Execs a shell that checks whether descriptor fd is open in the child:
 * close-on-exec descriptors must not be.
 */
static bool
fd_survives_exec(int fd)
{
	char script[64];

	snprintf(script, sizeof(script), "test -e /proc/self/fd/%d", fd);
	pid_t pid = fork();
	if (pid == -1)
		sysbail("fork");
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(2);
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Marks the open descriptors below 1024 in open_fds. */
static void
snapshot_fds(bool open_fds[1024])
{
	for (int fd = 0; fd < 1024; fd++)
		open_fds[fd] = fcntl(fd, F_GETFD) != -1;
}

static void
cloexec_everywhere(void)
{
	mio_poll *poll;
	mio_events *events;
	mio_waker *waker;
	mio_registry *clone;
	bool before[1024], after[1024];

	snapshot_fds(before);
	init_with_poll(&poll, &events);
	mio_waker_new(mio_poll_registry(poll), 1, &waker);
	mio_registry_try_clone(mio_poll_registry(poll), &clone);
	snapshot_fds(after);
	int created = 0, cloexec = 0;
	for (int fd = 0; fd < 1024; fd++) {
		if (!after[fd] || before[fd])
			continue;
		created++;
		cloexec += fd_is_cloexec(fd);
	}
	/* The selector, and one or two for an eventfd or pipe waker; the
	 * EVFILT_USER waker and a clone use the poll's selector and open
	 * none (t/registering.c clone_descriptors). */
	ok(created >= 1, "poll, waker and clone created %d descriptors",
	    created);
	is_int(cloexec, created, "every one of them is close-on-exec");
	if (access("/proc/self/fd", F_OK) == 0)
		ok(!fd_survives_exec(mio_poll_fd(poll)),
		    "the selector descriptor does not survive an exec");
	else
		skip(1, "no /proc/self/fd to look at after exec");
	mio_registry_free(clone);
	mio_waker_free(waker);
	mio_events_free(events);
	free_poll(poll);
}

int
main(void)
{
	plan_lazy();
	strerror_names();
	identity();
	version_macros();
	cloexec_everywhere();
	return 0;
}
