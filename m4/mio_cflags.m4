# mio_cflags.m4 - compiler flag probes for libmio.
#
# MIO_ADD_CFLAG(VARIABLE, FLAG)
# Appends FLAG to VARIABLE when the C compiler accepts it without a warning.
# -Werror is used during the probe so that compilers which merely warn about
# an unknown flag (clang) are treated as not supporting it.
AC_DEFUN([MIO_ADD_CFLAG], [
  AS_VAR_PUSHDEF([mio_cache], [mio_cv_cflag_$2])
  AC_CACHE_CHECK([whether $CC accepts $2], [mio_cache], [
    mio_saved_cflags=$CFLAGS
    CFLAGS="$CFLAGS -Werror $2"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
      [AS_VAR_SET([mio_cache], [yes])], [AS_VAR_SET([mio_cache], [no])])
    CFLAGS=$mio_saved_cflags])
  AS_VAR_IF([mio_cache], [yes], [AS_VAR_APPEND([$1], [" $2"])])
  AS_VAR_POPDEF([mio_cache])
])
