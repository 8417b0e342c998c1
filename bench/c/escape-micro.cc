// Micro-benchmark (not a test): nanoseconds per input byte of the addon's text escaper
// (native/format.cc, EscapeText) and of the C printer's (bench/c/escape.h) on the same payloads,
// and a check that both write the same bytes. Built against the checkout's native/format.cc:
//
//   g++ -O2 -D_GNU_SOURCE -I/usr/include/node -Inative bench/c/escape-micro.cc native/format.cc \
//     -o /tmp/escape-micro && /tmp/escape-micro [size] [kind] [rounds]
//
// kind: random (uniform bytes), ascii (printable, every 64th byte a tab), utf8 (mixed scripts),
// edge (dense bytes at the edges of the UTF-8 rules).
// 4096 different payloads are cycled so that the branch predictor cannot learn one.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "udpkit.h"
extern "C" {
#include "../../bench/c/escape.h"
}

int main(int argc, char** argv) {
  const size_t size = argc > 1 ? strtoul(argv[1], nullptr, 10) : 1200;
  const std::string kind = argc > 2 ? argv[2] : "random";
  const int rounds = argc > 3 ? atoi(argv[3]) : 200;
  const size_t count = 4096;
  std::mt19937_64 rng(12);
  std::vector<uint8_t> in(size * count);
  const char* words[] = {"hello ", "Grüße ", "日本語 ", "😀 ", "naïve ", "\t"};
  for (size_t d = 0; d < count; d++) {
    uint8_t* p = &in[d * size];
    if (kind == "random") {
      for (size_t i = 0; i < size; i++) p[i] = static_cast<uint8_t>(rng());
    } else if (kind == "ascii") {
      for (size_t i = 0; i < size; i++) p[i] = i % 64 == 63 ? '\t' : static_cast<uint8_t>(0x20 + rng() % 0x5c);
    } else if (kind == "edge") {
      // Bytes at the edges of the UTF-8 rules (leads, second-byte limits, C1, U+2028, U+2066),
      // dense, so that sequences start and end across every block boundary.
      const uint8_t edge[] = {0xc1, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0x7f, 0x80, 0x81,
                              0x8f, 0x90, 0x9f, 0xa0, 0xa6, 0xa8, 0xa9, 0xae, 0xaf, 0xbf, 0x0a, 0x5c, 0x41};
      for (size_t i = 0; i < size; i++) p[i] = edge[rng() % sizeof edge];
    } else {
      size_t i = 0;
      while (i < size) {
        const char* w = words[rng() % 6];
        for (size_t k = 0; w[k] != 0 && i < size; k++) p[i++] = static_cast<uint8_t>(w[k]);
      }
    }
  }
  std::vector<uint8_t> a(size * 4 + 64), b(ESCAPED_ROOM(size) + 64);
  for (size_t d = 0; d < count; d++) {
    const uint8_t* p = &in[d * size];
    const size_t la = udpkit::EscapeText(p, size, a.data()) - a.data();
    const size_t lb = escape_payload(p, size, reinterpret_cast<char*>(b.data()));
    if (la != lb || memcmp(a.data(), b.data(), la) != 0) {
      fprintf(stderr, "payload %zu differs (%zu vs %zu bytes)\n", d, la, lb);
      return 1;
    }
  }
  auto time = [&](auto escape) {
    double best = 1e99;
    for (int trial = 0; trial < 5; trial++) {
      size_t sink = 0;
      const auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < rounds; r++)
        for (size_t d = 0; d < count; d++) sink += escape(&in[d * size]);
      const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
      if (sink == 1) puts("");
      best = std::min(best, ns / (static_cast<double>(rounds) * count * size));
    }
    return best;
  };
  const double addon = time([&](const uint8_t* p) { return static_cast<size_t>(udpkit::EscapeText(p, size, a.data()) - a.data()); });
  const double c = time([&](const uint8_t* p) { return escape_payload(p, size, reinterpret_cast<char*>(b.data())); });
  printf("%s %zu B: addon %.3f ns/byte, escape.h %.3f ns/byte (best of 5)\n", kind.c_str(), size, addon, c);
  return 0;
}
