/* udpkit's escaping of a payload for one line of terminal output (README, `udpkit listen`), in C
 * for the reference printer (udp-print.c):
 *   - valid UTF-8 is kept, printable characters of any script as they are, and the tab;
 *   - `\n`, `\r` and `\\` for newline, carriage return and backslash;
 *   - `\xNN` for the other C0 controls and DEL (one byte each);
 *   - `\uXXXX` for C1 controls (U+0080..U+009F), U+2028, U+2029 and the bidi controls
 *     U+202A..U+202E and U+2066..U+2069;
 *   - `\xNN` for each byte that does not start a valid UTF-8 sequence (overlong forms,
 *     surrogates, above U+10FFFF, cut short), the next byte tried afresh.
 * Hex digits are lower case. */
#ifndef UDPKIT_BENCH_ESCAPE_H
#define UDPKIT_BENCH_ESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Output bytes one input byte can become at most (`\xff`), and the room to give escape_payload
 * for n bytes: a little more, as it stores whole 4-byte escapes and keeps only what it needs. */
#define ESCAPED_MAX_PER_BYTE 4
#define ESCAPED_ROOM(n) ((size_t)(n) * ESCAPED_MAX_PER_BYTE + 4)

static const char escape_hex[] = "0123456789abcdef";

/* True when every byte is printable ASCII (0x20..0x7e) other than the backslash: the payload is
 * its own line. Branch-free over the whole payload so that it vectorises, as the common case
 * should cost a copy, not a decision per byte (udpkit's addon classifies the same way). GCC 12's
 * -O2 cost model ("very cheap") leaves this loop scalar; the attribute lifts that here only. */
__attribute__((optimize("tree-vectorize"))) static int escape_is_plain(const unsigned char *p, size_t n) {
  unsigned bad = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char b = p[i];
    bad |= (unsigned char)(b - 0x20) > 0x5e;
    bad |= b == 0x5c;
  }
  return !bad;
}

/* Length of the valid UTF-8 sequence at p (n bytes left, p[0] >= 0x80), or 0 when none starts
 * there. The second byte's range excludes overlong forms (E0, F0), surrogates (ED) and code
 * points above U+10FFFF (F4). */
static size_t escape_utf8_length(const unsigned char *p, size_t n) {
  unsigned char b = p[0], lo = 0x80, hi = 0xbf;
  size_t len;
  if (b >= 0xc2 && b <= 0xdf) len = 2;
  else if (b >= 0xe0 && b <= 0xef) len = 3;
  else if (b >= 0xf0 && b <= 0xf4) len = 4;
  else return 0;
  if (b == 0xe0) lo = 0xa0;
  else if (b == 0xed) hi = 0x9f;
  else if (b == 0xf0) lo = 0x90;
  else if (b == 0xf4) hi = 0x8f;
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k < len; k++)
    if (p[k] < 0x80 || p[k] > 0xbf) return 0;
  return len;
}

static uint32_t escape_code_point(const unsigned char *p, size_t len) {
  if (len == 2) return (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
  if (len == 3) return (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
  return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 | (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
}

/* Characters above ASCII that move the cursor or reorder text in some terminals. */
static int escape_unsafe_above_ascii(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

/* What one byte becomes when it does not start a valid UTF-8 sequence: itself (printable ASCII,
 * tab), a named escape, or `\xNN`. For a byte that may start one, the range its second byte must
 * fall in: [lo, lo + span), span 0 for every other byte. A table, so that binary payloads cost a
 * lookup, a compare and a 4-byte store per byte rather than a chain of unpredictable branches. */
struct escape_entry {
  char text[4];
  unsigned char len;
  unsigned char lo;
  unsigned char span;
};

static struct escape_entry escape_table[256];

static void escape_init(void) {
  static int done = 0;
  if (done) return;
  done = 1;
  for (int b = 0; b < 256; b++) {
    struct escape_entry *e = &escape_table[b];
    if ((b >= 0x20 && b < 0x7f && b != '\\') || b == '\t') {
      e->text[0] = (char)b;
      e->len = 1;
    } else if (b == '\n' || b == '\r' || b == '\\') {
      e->text[0] = '\\';
      e->text[1] = b == '\n' ? 'n' : b == '\r' ? 'r' : '\\';
      e->len = 2;
    } else {
      memcpy(e->text, "\\x", 2);
      e->text[2] = escape_hex[b >> 4];
      e->text[3] = escape_hex[b & 15];
      e->len = 4;
    }
    if (b >= 0xc2 && b <= 0xf4) {
      unsigned char lo = b == 0xe0 ? 0xa0 : b == 0xf0 ? 0x90 : 0x80;
      unsigned char hi = b == 0xed ? 0x9f : b == 0xf4 ? 0x8f : 0xbf;
      e->lo = lo;
      e->span = (unsigned char)(hi - lo + 1);
    }
  }
}

/* True when all 8 bytes of x are printable ASCII other than the backslash. Per byte, on the low
 * seven bits y (so no sum carries into the next byte): y + 0x60 has no high bit when y < 0x20,
 * y + 1 has one when y is 0x7f, (y ^ 0x5c) + 0x7f has none when y is the backslash. */
static int escape_plain8(uint64_t x) {
  const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
  uint64_t y = x & ~high;
  uint64_t bad = (x & high) | (~(y + 0x60 * ones) & high) | ((y + ones) & high) | (~((y ^ (0x5c * ones)) + 0x7f * ones) & high);
  return bad == 0;
}

/* Writes the escaped form of p[0..n) at out, which has room for ESCAPED_ROOM(n) bytes; returns
 * how many bytes it wrote. */
static size_t escape_payload(const unsigned char *p, size_t n, char *out) {
  if (escape_is_plain(p, n)) {
    memcpy(out, p, n);
    return n;
  }
  escape_init();
  char *o = out;
  size_t i = 0;
  while (i < n) {
    uint64_t word;
    if (i + 8 <= n && (memcpy(&word, p + i, 8), escape_plain8(word))) {
      memcpy(o, &word, 8);
      o += 8;
      i += 8;
      continue;
    }
    /* At least the next 8 bytes one at a time before trying a whole word again: in binary data
     * a word is rarely plain, and trying at every byte costs more than the byte. */
    for (size_t stop = i + 8 < n ? i + 8 : n; i < stop;) {
      const struct escape_entry *e = &escape_table[p[i]];
      unsigned char second = i + 1 < n ? p[i + 1] : 0;
      if ((unsigned)(unsigned char)(second - e->lo) < e->span) {
        size_t len = escape_utf8_length(p + i, n - i);
        if (len > 0) {
          uint32_t cp = escape_code_point(p + i, len);
          if (escape_unsafe_above_ascii(cp)) {
            *o++ = '\\';
            *o++ = 'u';
            for (int shift = 12; shift >= 0; shift -= 4) *o++ = escape_hex[(cp >> shift) & 15];
          } else {
            memcpy(o, p + i, len);
            o += len;
          }
          i += len;
          continue;
        }
      }
      /* Always 4 bytes stored, `len` kept: the slack is in ESCAPED_ROOM. */
      memcpy(o, e->text, 4);
      o += e->len;
      i++;
    }
  }
  return (size_t)(o - out);
}

#endif
