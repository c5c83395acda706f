/*
 * version.c - what was built: the library version and the backend. The
 * answers are compiled in, so a program that calls them learns what the
 * loaded library is, whatever headers the program was built with.
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

unsigned
mio_version_hex(void)
{
	return (unsigned)MIO_VERSION_HEX;
}
