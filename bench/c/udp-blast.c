/* Reference UDP sender: COUNT datagrams of SIZE bytes to HOST PORT with sendmmsg, batches of 64,
 * optionally paced to RATE datagrams/s (0: as fast as possible). Each payload is printable text:
 * its sequence number as 16 hex digits, then 'a's. Prints "sent N in S seconds". Bounded by COUNT
 * and a 120 s deadline; pacing sleeps between batches of 64. FINAL, if given, is sent last as one
 * more datagram. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: udp-blast HOST PORT COUNT SIZE [RATE] [FINAL]\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  long count = atol(argv[3]);
  int size = atoi(argv[4]);
  double rate = argc > 5 ? atof(argv[5]) : 0;
  const char *final = argc > 6 ? argv[6] : NULL;
  if (size < 16) size = 16;
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
  char *bufs = calloc(BATCH, size);
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    memset(bufs + (size_t)i * size + 16, 'a', size - 16);
    iov[i].iov_base = bufs + (size_t)i * size;
    iov[i].iov_len = size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  double start = now(), deadline = start + 120;
  long sent = 0;
  while (sent < count && now() < deadline) {
    int n = count - sent < BATCH ? (int)(count - sent) : BATCH;
    if (rate > 0) {
      /* Sleep, not spin, until the batch is due: a spinning sender would take a core from the
       * receiver under test on a 2-core machine. Due times come from the start, so timer slack
       * does not accumulate into drift. */
      double due = start + sent / rate;
      if (due > now()) {
        struct timespec ts = { (time_t)due, (long)((due - (time_t)due) * 1e9) };
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
      }
    }
    for (int i = 0; i < n; i++) {
      uint64_t seq = (uint64_t)(sent + i);
      char hex[17];
      snprintf(hex, sizeof hex, "%016llx", (unsigned long long)seq);
      memcpy(bufs + (size_t)i * size, hex, size < 16 ? size : 16);
    }
    int r = sendmmsg(fd, msgs, n, 0);
    if (r > 0) sent += r;
    else if (r < 0) { /* ECONNREFUSED from a previous ICMP: keep going */ }
  }
  double took = now() - start;
  if (final) send(fd, final, strlen(final), 0);
  printf("sent %ld in %.3f seconds\n", sent, took);
  close(fd);
  return 0;
}
