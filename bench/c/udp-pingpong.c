/* Reference UDP round trip, the floor for `udpkit bench --rtt`.
 *   udp-pingpong server PORT [IDLE_MS]
 *     Binds 127.0.0.1:PORT, echoes every datagram to its sender. Prints "ready" on stderr once
 *     bound; stops on a datagram "bye", after IDLE_MS (default 5000) without data once the first
 *     arrived, or after 60 s; prints "echoed N".
 *   udp-pingpong client HOST PORT [COUNT] [SIZE]
 *     COUNT (default 1000) sequential round trips of SIZE (default 64, at least 8) bytes, no
 *     warm-up, each waiting up to 250 ms for the reply carrying its sequence number; then sends
 *     "bye". Prints "rtt p50 X us p99 Y us min A max B echoes N lost L" (nearest-rank
 *     percentiles, as `udpkit bench`). Bounded by a 30 s deadline. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXLEN 65536

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least p% of the samples at or below it. */
static double percentile(const double *sorted, int n, double p) {
  int rank = (int)((p / 100.0) * n + 0.999999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

static int server(int port, int idle) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 1; }
  fprintf(stderr, "ready\n");
  static char buf[MAXLEN];
  long echoed = 0;
  double deadline = now() + 60;
  while (now() < deadline) {
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, echoed ? idle : 60000) <= 0) break;
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    if (n < 0) continue;
    if (n == 3 && memcmp(buf, "bye", 3) == 0) break;
    sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
    echoed++;
  }
  printf("echoed %ld\n", echoed);
  return 0;
}

static int client(const char *host, int port, int count, int size) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t slen;
  int fam;
  struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET; a4->sin_port = htons(port); slen = sizeof *a4; fam = AF_INET;
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6; a6->sin6_port = htons(port); slen = sizeof *a6; fam = AF_INET6;
  } else {
    fprintf(stderr, "bad address %s\n", host);
    return 2;
  }
  int fd = socket(fam, SOCK_DGRAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&ss, slen) < 0) { perror("socket/connect"); return 1; }
  if (size < 8) size = 8;
  if (size > MAXLEN) size = MAXLEN;
  char *out = malloc(size), *in = malloc(MAXLEN);
  double *samples = malloc(sizeof(double) * (size_t)count);
  memset(out, 'a', size);
  int got = 0, lost = 0;
  double deadline = now() + 30;
  for (uint32_t seq = 0; seq < (uint32_t)count && now() < deadline; seq++) {
    memcpy(out, &seq, 4);
    double t0 = now();
    if (send(fd, out, size, 0) < 0) { lost++; continue; }
    int answered = 0;
    while (!answered) {
      int left = (int)((t0 + 0.25 - now()) * 1000);
      struct pollfd p = { fd, POLLIN, 0 };
      if (left <= 0 || poll(&p, 1, left) <= 0) break;
      ssize_t n = recv(fd, in, MAXLEN, 0);
      uint32_t back;
      if (n >= 4 && (memcpy(&back, in, 4), back == seq)) answered = 1;
    }
    if (answered) samples[got++] = (now() - t0) * 1e6;
    else lost++;
  }
  send(fd, "bye", 3, 0);
  if (got == 0) { printf("rtt none echoes 0 lost %d\n", lost); return 1; }
  qsort(samples, got, sizeof(double), cmp_double);
  printf("rtt p50 %.1f us p99 %.1f us min %.1f max %.1f echoes %d lost %d\n",
         percentile(samples, got, 50), percentile(samples, got, 99), samples[0], samples[got - 1], got, lost);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "server") == 0) return server(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 5000);
  if (argc >= 4 && strcmp(argv[1], "client") == 0)
    return client(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 1000, argc > 5 ? atoi(argv[5]) : 64);
  fprintf(stderr, "usage: udp-pingpong server PORT [IDLE_MS] | udp-pingpong client HOST PORT [COUNT] [SIZE]\n");
  return 2;
}
