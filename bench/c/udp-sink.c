/* Reference UDP receiver: binds PORT on 127.0.0.1 (or ::1 with -6), asks for an 8 MB receive
 * buffer, receives with recvmmsg in batches of 64 until IDLE_MS pass with nothing (after the
 * first datagram) or a datagram equal to "bye" arrives. Prints "received N bytes B drops D seconds S",
 * D from SO_RXQ_OVFL. Bounded by a 120 s deadline. */
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

#define BATCH 64
#define MAXLEN 65536

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: udp-sink PORT IDLE_MS\n");
    return 2;
  }
  int port = atoi(argv[1]);
  int idle = atoi(argv[2]);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int rcv = 8 << 20, one = 1;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 1; }
  fprintf(stderr, "ready\n");
  char *bufs = malloc((size_t)BATCH * MAXLEN);
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  char ctrl[BATCH][64];
  long got = 0, bytes = 0;
  uint32_t drops = 0;
  double first = 0, last = 0, deadline = now() + 120;
  int stop = 0;
  while (!stop && now() < deadline) {
    struct pollfd p = { fd, POLLIN, 0 };
    int pr = poll(&p, 1, got ? idle : 60000);
    if (pr <= 0) break;
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs + (size_t)i * MAXLEN;
      iov[i].iov_len = MAXLEN;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = ctrl[i];
      msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i];
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) continue;
    if (!got) first = now();
    last = now();
    for (int i = 0; i < n; i++) {
      got++;
      bytes += msgs[i].msg_len;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) memcpy(&drops, CMSG_DATA(c), 4);
      if (msgs[i].msg_len == 3 && memcmp(iov[i].iov_base, "bye", 3) == 0) stop = 1;
    }
  }
  printf("received %ld bytes %ld drops %u seconds %.3f\n", got, bytes, drops, last - first);
  return 0;
}
