/* Reference printing receiver: does what `udpkit listen` does for each datagram, in plain C, so
 * the benchmark can say what that work costs at best. Binds [::]:PORT (both families; 0 lets the
 * kernel choose), asks for an 8 MB receive buffer, receives with recvmmsg in batches of 64 and
 * prints the textbook's line for each datagram,
 *     received message: <payload, escaped> from PORT <port> on <ip>
 * with udpkit's escaping (escape.h), into a buffer written to stdout at 64 KiB or when the socket
 * is empty. Says "listening on *:PORT/udp" on stderr once bound; stops on SIGTERM or
 * SIGINT (or after 300 s) and prints "received N datagrams, B bytes; kernel dropped D" on
 * stderr, D being the socket's drop count (SO_MEMINFO), read before it closes.
 *
 *   udp-print [PORT]      receive and print
 *   udp-print --escape    print stdin (up to 1 MiB) escaped, one line: a self-check against
 *                         udpkit's own output */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "escape.h"

#define BATCH 64
#define MAXLEN 65536
/* Output is written once this much is formatted (or when the socket is empty): a pipe holds
 * 64 KiB, and a larger write keeps the printer blocked, not reading its socket, until the reader
 * has taken all but the last 64 KiB of it (measured: at 8000 B, 1 MiB writes received 0.6x of
 * what 64 KiB writes did). */
#define OUT_SIZE (64 << 10)
/* Room one line can take at most: the prefix, the payload escaped (4 bytes of output per byte at
 * worst, `\xff`), the suffix. */
#define LINE_ROOM (32 + ESCAPED_ROOM(MAXLEN) + 96)

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes all of buf; 0 when the reader went away or the write failed. */
static int write_all(const char *buf, size_t len) {
  while (len > 0) {
    ssize_t w = write(STDOUT_FILENO, buf, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    buf += w;
    len -= (size_t)w;
  }
  return 1;
}

static int escape_stdin(void) {
  static unsigned char in[1 << 20];
  size_t n = 0;
  ssize_t r;
  while (n < sizeof in && (r = read(STDIN_FILENO, in + n, sizeof in - n)) != 0) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { perror("read"); return 1; }
    n += (size_t)r;
  }
  char *out = malloc(ESCAPED_ROOM(n) + 1);
  size_t len = escape_payload(in, n, out);
  out[len++] = '\n';
  return write_all(out, len) ? 0 : 1;
}

/* " from PORT <port> on <ip>\n" for a sender; an IPv4 sender on the dual-stack socket arrives
 * as ::ffff:a.b.c.d and is shown as plain IPv4, like udpkit does. */
static size_t suffix_for(const struct sockaddr_in6 *a, char *out) {
  char ip[INET6_ADDRSTRLEN];
  if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, sizeof ip);
  else inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
  return (size_t)sprintf(out, " from PORT %u on %s\n", ntohs(a->sin6_port), ip);
}

static uint32_t socket_drops(int fd) {
  uint32_t mem[SK_MEMINFO_VARS];
  socklen_t len = sizeof mem;
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 || len < sizeof mem) return 0;
  return mem[SK_MEMINFO_DROPS];
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--escape") == 0) return escape_stdin();
  int port = argc > 1 ? atoi(argv[1]) : 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR and the loop ends */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  int rcv = 8 << 20, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof a);
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  a.sin6_addr = in6addr_any;
  socklen_t alen = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
    fprintf(stderr, "udp-print: cannot bind [::]:%d: %s\n", port, strerror(errno));
    return 1;
  }
  fprintf(stderr, "listening on *:%u/udp\n", ntohs(a.sin6_port));

  unsigned char *bufs = malloc((size_t)BATCH * MAXLEN);
  char *out = malloc(OUT_SIZE + LINE_ROOM);
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in6 from[BATCH];
  struct sockaddr_in6 last;
  char suffix[128];
  size_t suffix_len = 0, used = 0;
  memset(&last, 0, sizeof last);
  long got = 0, bytes = 0;
  int broken = 0;
  double deadline = now() + 300;
  static const char prefix[] = "received message: ";
  while (!stopping && !broken && now() < deadline) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs + (size_t)i * MAXLEN;
      iov[i].iov_len = MAXLEN;
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) {
      /* The socket is empty: hand what is formatted to the reader, then wait. */
      if (used > 0 && !write_all(out, used)) broken = 1;
      used = 0;
      struct pollfd p = { fd, POLLIN, 0 };
      poll(&p, 1, 1000);
      continue;
    }
    for (int i = 0; i < n; i++) {
      size_t len = msgs[i].msg_len;
      got++;
      bytes += (long)len;
      if (from[i].sin6_port != last.sin6_port || memcmp(&from[i].sin6_addr, &last.sin6_addr, sizeof last.sin6_addr) != 0) {
        last = from[i];
        suffix_len = suffix_for(&last, suffix);
      }
      memcpy(out + used, prefix, sizeof prefix - 1);
      used += sizeof prefix - 1;
      used += escape_payload(iov[i].iov_base, len, out + used);
      memcpy(out + used, suffix, suffix_len);
      used += suffix_len;
      if (used >= OUT_SIZE) {
        if (!write_all(out, used)) broken = 1;
        used = 0;
      }
    }
  }
  if (used > 0 && !broken) write_all(out, used);
  fprintf(stderr, "received %ld datagrams, %ld bytes; kernel dropped %u\n", got, bytes, socket_drops(fd));
  close(fd);
  return 0;
}
