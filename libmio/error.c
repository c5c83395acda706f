/*
 * error.c - mio_strerror(): names for the negative errno values libmio
 * returns. The table is libmio's own, not strerror(3), because strerror is
 * not guaranteed thread-safe and its wording varies between libcs.
 */
#include "mio-internal.h"

/* X(code, description): the codes libmio and the kernels below it return. */
#define MIO__ERRNO_MAP(X)                                                 \
	X(EPERM, "operation not permitted")                               \
	X(ENOENT, "not registered, or no such file or directory")         \
	X(EINTR, "interrupted by a signal")                               \
	X(EIO, "input/output error")                                      \
	X(EBADF, "bad file descriptor")                                   \
	X(EAGAIN, "resource temporarily unavailable")                     \
	X(ENOMEM, "out of memory")                                        \
	X(EACCES, "permission denied")                                    \
	X(EFAULT, "bad address")                                          \
	X(EBUSY, "device or resource busy")                               \
	X(EEXIST, "already registered, or already exists")                \
	X(ENOTDIR, "not a directory")                                     \
	X(EINVAL, "invalid argument")                                     \
	X(ENFILE, "too many open files in the system")                    \
	X(EMFILE, "too many open files")                                  \
	X(ENOSPC, "no space left (epoll watch limit reached)")            \
	X(EPIPE, "broken pipe")                                           \
	X(ERANGE, "result out of range")                                  \
	X(ENAMETOOLONG, "name too long")                                  \
	X(ENOSYS, "function not implemented")                             \
	X(ELOOP, "too many levels of symbolic links")                     \
	X(ENOTSOCK, "not a socket")                                       \
	X(EDESTADDRREQ, "destination address required")                   \
	X(EMSGSIZE, "message too long")                                   \
	X(EPROTOTYPE, "wrong protocol type for socket")                   \
	X(ENOPROTOOPT, "protocol option not available")                   \
	X(EPROTONOSUPPORT, "protocol not supported")                      \
	X(EOPNOTSUPP, "operation not supported")                          \
	X(EAFNOSUPPORT, "address family not supported")                   \
	X(EADDRINUSE, "address already in use")                           \
	X(EADDRNOTAVAIL, "address not available")                         \
	X(ENETDOWN, "network is down")                                    \
	X(ENETUNREACH, "network is unreachable")                          \
	X(ECONNABORTED, "connection aborted")                             \
	X(ECONNRESET, "connection reset by peer")                         \
	X(ENOBUFS, "no buffer space available")                           \
	X(EISCONN, "socket is already connected")                         \
	X(ENOTCONN, "socket is not connected")                            \
	X(ETIMEDOUT, "timed out")                                         \
	X(ECONNREFUSED, "connection refused")                             \
	X(EHOSTUNREACH, "host is unreachable")                            \
	X(EALREADY, "operation already in progress")                      \
	X(EINPROGRESS, "operation in progress")

#define MIO__ERRNO_CASE(code, text) \
	case code:                  \
		return text " (" #code ")";

const char *
mio_strerror(int negative_errno)
{
	if (negative_errno == 0)
		return "success";
	switch (-negative_errno) {
		MIO__ERRNO_MAP(MIO__ERRNO_CASE)
	default:
		return negative_errno > 0 ? "not an error code (positive value)" :
		    "unknown error";
	}
}
