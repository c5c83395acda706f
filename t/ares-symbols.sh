#!/bin/sh
# t/ares-symbols.sh - libmio-ares.so exports exactly the MIO_ARES_EXTERN
# functions of ares/mio-ares.h (nm -D), checked by t/symbols.sh.
: "${top_builddir:=.}" "${top_srcdir:=.}"
SYMBOLS_LIB="$top_builddir/ares/.libs/libmio-ares.so" \
SYMBOLS_HEADER="$top_srcdir/ares/mio-ares.h" \
SYMBOLS_EXTERN=MIO_ARES_EXTERN \
SYMBOLS_NODE=LIBMIO_ARES_0 \
	exec sh "$top_srcdir/t/symbols.sh"
