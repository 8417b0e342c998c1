/* Reference UDP sender: COUNT datagrams of SIZE bytes to HOST PORT with sendmmsg, batches of 64,
 * optionally paced to RATE datagrams/s (0: as fast as possible). Prints "sent N in S seconds".
 * Bounded by COUNT and a 120 s deadline; pacing sleeps between batches of 64. FINAL, if given, is
 * sent last as one more datagram.
 *
 * -k KIND chooses what each payload holds (datagram number N counts from 0):
 *   text    printable ASCII: N as 16 hex digits, then 'a's (the default; SIZE at least 16)
 *   seq     N as 8 big-endian bytes, then printable text (SIZE at least 8): binary in front,
 *           so a receiver cannot take the all-printable shortcut
 *   random  SIZE bytes from a generator seeded by -s SEED (default 1) and N: a different
 *           payload every datagram, the same for the same seed on every run
 * Options come before HOST, so callers that only pass the positional arguments are unchanged. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

enum kind { KIND_TEXT, KIND_SEQ, KIND_RANDOM };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* splitmix64: one multiply-xorshift step per 8 bytes keeps the sender far cheaper per datagram
 * than any receiver under test, even at 8,000 bytes. */
static uint64_t mix(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void fill_random(unsigned char *p, int size, uint64_t seed, uint64_t n) {
  uint64_t state = seed * 0x2545f4914f6cdd1dULL ^ n;
  int i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t r = mix(&state);
    memcpy(p + i, &r, 8);
  }
  if (i < size) {
    uint64_t r = mix(&state);
    memcpy(p + i, &r, (size_t)(size - i));
  }
  /* "UK" opens a udpkit frame (docs/protocol.md); one random payload in 65,536 would start so
   * and might be taken for one instead of shown. */
  if (size >= 2 && p[0] == 0x55 && p[1] == 0x4b) p[0] = 0x54;
}

/* Writes datagram n's payload of `size` bytes at p. The filler after a sequence number is
 * already in place (written once at start-up). */
static void fill(unsigned char *p, int size, enum kind kind, uint64_t seed, uint64_t n) {
  if (kind == KIND_TEXT) {
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)n);
    memcpy(p, hex, 16);
  } else if (kind == KIND_SEQ) {
    for (int b = 0; b < 8; b++) p[b] = (unsigned char)(n >> (56 - 8 * b));
  } else {
    fill_random(p, size, seed, n);
  }
}

static int usage(void) {
  fprintf(stderr, "usage: udp-blast [-k text|seq|random] [-s SEED] HOST PORT COUNT SIZE [RATE] [FINAL]\n");
  return 2;
}

int main(int argc, char **argv) {
  enum kind kind = KIND_TEXT;
  uint64_t seed = 1;
  int opt;
  /* '+': stop at the first positional, as a fixed argument order promises. */
  while ((opt = getopt(argc, argv, "+k:s:")) != -1) {
    if (opt == 'k' && strcmp(optarg, "text") == 0) kind = KIND_TEXT;
    else if (opt == 'k' && strcmp(optarg, "seq") == 0) kind = KIND_SEQ;
    else if (opt == 'k' && strcmp(optarg, "random") == 0) kind = KIND_RANDOM;
    else if (opt == 's') seed = strtoull(optarg, NULL, 0);
    else return usage();
  }
  argc -= optind - 1;
  argv += optind - 1;
  if (argc < 5) return usage();
  const char *host = argv[1];
  int port = atoi(argv[2]);
  long count = atol(argv[3]);
  int size = atoi(argv[4]);
  double rate = argc > 5 ? atof(argv[5]) : 0;
  const char *final = argc > 6 ? argv[6] : NULL;
  int least = kind == KIND_TEXT ? 16 : kind == KIND_SEQ ? 8 : 1;
  if (size < least) size = least;
  if (size > 65507) size = 65507;
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
  unsigned char *bufs = calloc(BATCH, size);
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);
  static const char filler[] = "udpkit bench payload, printable text after the number. ";
  for (int i = 0; i < BATCH; i++) {
    unsigned char *p = bufs + (size_t)i * size;
    if (kind == KIND_TEXT) memset(p + 16, 'a', size - 16);
    if (kind == KIND_SEQ)
      for (int b = 8; b < size; b++) p[b] = (unsigned char)filler[(b - 8) % (sizeof filler - 1)];
    iov[i].iov_base = p;
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
    for (int i = 0; i < n; i++) fill(bufs + (size_t)i * size, size, kind, seed, (uint64_t)(sent + i));
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
