/*
 * t/cmake-consumer/consumer.c - built through find_package(libmio) with
 * libmio::libmio and libmio::ares, as strict C11: polls once without waiting
 * and makes a c-ares channel in the loop. Exits 0 when the headers and the
 * libraries it was built and linked against agree.
 */
#include <mio-ares.h>
#include <mio.h>

#include <stdio.h>

int
main(void)
{
	mio_poll *poll;
	mio_ares *resolver;
	struct timespec zero = { 0, 0 };
	int rc;

	if (mio_version_hex() != MIO_VERSION_HEX) {
		fprintf(stderr, "headers %s, library %s\n", MIO_VERSION_STRING,
		    mio_version());
		return 1;
	}
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		return 1;
	rc = mio_poll_new(&poll);
	if (rc != 0) {
		fprintf(stderr, "mio_poll_new: %s\n", mio_strerror(rc));
		return 1;
	}
	rc = mio_ares_new(mio_poll_registry(poll), NULL, 0, &resolver);
	if (rc != 0) {
		fprintf(stderr, "mio_ares_new: %s\n", mio_strerror(rc));
		return 1;
	}
	mio_events *events;
	rc = mio_events_new(&events, 8);
	if (rc == 0)
		rc = mio_poll_poll(poll, events, &zero);
	printf("libmio %s (%s), c-ares %s: poll returned %d\n", mio_version(),
	    mio_backend(), ares_version(NULL), rc);
	mio_events_free(events);
	mio_ares_free(resolver);
	mio_poll_free(poll);
	ares_library_cleanup();
	return rc == 0 ? 0 : 1;
}
