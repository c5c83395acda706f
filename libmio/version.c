/*
 * version.c - what was built: the library version and the backend.
 */
#include "mio-internal.h"

const char *
mio_backend(void)
{
	return MIO_BACKEND_NAME;
}

const char *
mio_version(void)
{
	return PACKAGE_VERSION;
}
