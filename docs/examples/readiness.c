/* readiness.c - the README's example: wait for a socket to become readable. */
#include <mio.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  mio_poll *poll; mio_events *events; int fds[2];
  if (mio_poll_new(&poll) != 0 || mio_events_new(&events, 64) != 0) return 1;
  socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds);
  int rc = mio_registry_register_fd(mio_poll_registry(poll), fds[0], 7, MIO_READABLE);
  if (rc != 0) { fprintf(stderr, "register: %s\n", mio_strerror(rc)); return 1; }
  if (write(fds[1], "ping", 4) != 4) return 1;
  struct timespec timeout = { .tv_sec = 1 };
  int n = mio_poll_poll(poll, events, &timeout);   /* events, 0 on timeout, or -errno */
  MIO_EVENTS_FOREACH(ev, events) {
    char buf[64]; ssize_t len;
    while ((len = read(fds[0], buf, sizeof buf)) > 0)  /* drain until EAGAIN */
      printf("token %zu readable: %.*s\n", (size_t)mio_event_token(ev), (int)len, buf);
  }
  printf("%d event(s) from %s\n", n, mio_backend());
  mio_events_free(events); mio_poll_free(poll); close(fds[0]); close(fds[1]);
  return n == 1 ? 0 : 1;
}
