// Formatting received datagrams as lines, in C: the textbook text line and the --json line of a
// whole batch, written into a buffer the caller provides. The escaping is specified once, in
// src/format/escape.ts, whose TypeScript writers do the same; keep the two in step
// (test/unit/format-equivalence.test.ts checks them byte for byte against each other).
//
// Runs of bytes that need no escaping are found 64 and 16 at a time with GCC/Clang vector
// extensions (SSE2 on x86-64, NEON on arm64) and copied with memcpy; only the blocks holding
// another byte are walked byte by byte, through tables rather than branches. In text, where a
// valid UTF-8 sequence starts is found for a whole block at once too, so the walk branches only
// at those (rare in binary data), not on every byte that might start one.
#include "udpkit.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__clang__) || __GNUC__ >= 12)
#include <immintrin.h>
#define UDPKIT_HEX_AVX2 1
#endif

#include <cstring>
#include <string>

namespace udpkit {

namespace {

#ifdef UDPKIT_HEX_AVX2
// Whether the 32-byte loops may run: the addon is built for any x86-64, and checks once.
const bool kHasAvx2 = __builtin_cpu_supports("avx2");
#endif

typedef uint8_t V16 __attribute__((vector_size(16)));
typedef int8_t S16 __attribute__((vector_size(16)));

constexpr char kHex[] = "0123456789abcdef";

__attribute__((always_inline)) inline V16 Load16(const uint8_t* p) {
  V16 v;
  memcpy(&v, p, sizeof v);
  return v;
}

__attribute__((always_inline)) inline bool Any(V16 v) {
  uint64_t half[2];
  memcpy(half, &v, sizeof half);
  return (half[0] | half[1]) != 0;
}

// Outside printable ASCII (0x20..0x7e): adding 1 takes exactly those bytes below 0x21 as signed
// (0x00..0x1f to 0x01..0x20, 0x7f..0xfe to negative, 0xff to 0). Two instructions.
V16 Outside(V16 v) { return reinterpret_cast<V16>(reinterpret_cast<S16>(static_cast<V16>(v + 1)) < 0x21); }
// A text line must escape it: C0 but the tab, DEL and above (checked as UTF-8), backslash.
V16 TextUnsafe(V16 v) { return (Outside(v) & ~reinterpret_cast<V16>(v == 0x09)) | reinterpret_cast<V16>(v == 0x5c); }
// A JSON string must escape it, or it needs checking as UTF-8: C0, `"`, backslash, DEL and above.
// A superset of TextUnsafe (the tab is the difference).
V16 JsonUnsafe(V16 v) { return Outside(v) | reinterpret_cast<V16>(v == 0x22) | reinterpret_cast<V16>(v == 0x5c); }

// True when one of the 64 bytes at p needs a look (a text line's, or with kJson a JSON string's).
template <bool kJson>
__attribute__((always_inline)) inline bool Any64(const uint8_t* p) {
  auto unsafe = [](V16 v) { return kJson ? JsonUnsafe(v) : TextUnsafe(v); };
  return Any(unsafe(Load16(p)) | unsafe(Load16(p + 16)) | unsafe(Load16(p + 32)) | unsafe(Load16(p + 48)));
}

bool TextUnsafeByte(uint8_t b) { return static_cast<uint8_t>(b - 0x20) > 0x5e ? b != 0x09 : b == 0x5c; }
bool JsonUnsafeByte(uint8_t b) { return static_cast<uint8_t>(b - 0x20) > 0x5e || b == 0x22 || b == 0x5c; }

// What each byte becomes when written on its own: in text (4-byte slots: a printable byte, a
// named escape or \xNN), in JSON (8-byte slots: a byte, a named escape or \u00xx; only below
// 0x80 is used) and in hex. A slot is copied whole (no branch on what the byte is: random bytes
// would make it guess wrong half the time) and the output advanced by the length. Text stays
// within 4 bytes per input byte even so; JSON may write 2 bytes past 6 per input byte.
struct Tables {
  // Per byte as the first of a UTF-8 sequence (RFC 3629): the sequence's length (0 for a byte
  // that begins none) and the range its second byte must be in.
  struct Lead {
    uint8_t len, lo, hi;
  } lead[256];
  // A text slot and its length side by side, so that a byte costs one table row.
  struct TextSlot {
    char bytes[4];
    uint8_t len;
    uint8_t seq;  // lead[b].len again: the length of the sequence a valid start begins
    uint8_t unused[2];
  } text[256];
  char json[128][8];
  uint8_t json_len[128];
  char hex[256][2];

  Tables() {
    memset(this, ' ', sizeof *this);
    for (int b = 0; b < 256; b++) {
      const uint8_t len = b < 0xc2 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 0;
      lead[b] = {len, static_cast<uint8_t>(b == 0xe0 ? 0xa0 : b == 0xf0 ? 0x90 : 0x80), static_cast<uint8_t>(b == 0xed ? 0x9f : b == 0xf4 ? 0x8f : 0xbf)};
      hex[b][0] = kHex[b >> 4];
      hex[b][1] = kHex[b & 15];
      const char named = b == '\\' ? '\\' : b == '\n' ? 'n' : b == '\r' ? 'r' : 0;
      TextSlot& t = text[b];
      t.seq = len;
      if ((b >= 0x20 && b < 0x7f && b != '\\') || b == '\t') {
        t.bytes[0] = static_cast<char>(b);
        t.len = 1;
      } else if (named != 0) {
        t.bytes[0] = '\\';
        t.bytes[1] = named;
        t.len = 2;
      } else {
        memcpy(t.bytes, "\\x", 2);
        memcpy(t.bytes + 2, hex[b], 2);
        t.len = 4;
      }
    }
    for (int b = 0; b < 128; b++) {
      const char named = b == '"' ? '"' : b == '\\' ? '\\' : b == 8 ? 'b' : b == 9 ? 't' : b == 10 ? 'n' : b == 12 ? 'f' : b == 13 ? 'r' : 0;
      char* j = json[b];
      if (named != 0) {
        j[0] = '\\';
        j[1] = named;
        json_len[b] = 2;
      } else if (b < 0x20) {
        memcpy(j, "\\u00", 4);
        memcpy(j + 4, hex[b], 2);
        json_len[b] = 6;
      } else {
        j[0] = static_cast<char>(b);
        json_len[b] = 1;
      }
    }
  }
};

const Tables kTables;

// Length of the valid UTF-8 sequence at p[0, n), or 0 when p[0] begins none: no overlongs, no
// surrogates, nothing above U+10FFFF. One branch on the answer, not one per check: random bytes
// would make each of those guess wrong.
__attribute__((always_inline)) inline size_t Utf8Length(const uint8_t* p, size_t n) {
  const Tables::Lead& l = kTables.lead[p[0]];
  uint8_t b1, b2, b3;
  if (n >= 4) {
    b1 = p[1], b2 = p[2], b3 = p[3];
  } else {
    b1 = n > 1 ? p[1] : 0, b2 = n > 2 ? p[2] : 0, b3 = 0;  // a byte missing is no continuation
  }
  // Each check 0 or 1, combined arithmetically so that the compiler keeps them branch-free.
  const uint32_t bad = static_cast<uint32_t>(static_cast<uint8_t>(b1 - l.lo) > static_cast<uint8_t>(l.hi - l.lo)) |
                       (static_cast<uint32_t>(l.len >= 3) & static_cast<uint32_t>((b2 & 0xc0) != 0x80)) |
                       (static_cast<uint32_t>(l.len >= 4) & static_cast<uint32_t>((b3 & 0xc0) != 0x80));
  return l.len & (bad - 1);
}

// Writes a valid sequence of `len` bytes: as it is, or as \uXXXX when it is a C1 control
// (C2 80..C2 9F), U+2028..U+202E (E2 80 A8..AE) or U+2066..U+2069 (E2 81 A6..A9). With kWhole,
// p[0, 4) may be read and 4 bytes stored whatever `len` is (a fixed copy, no loop): the caller
// has them, and the room for 4 output bytes per input byte covers it.
template <bool kWhole>
__attribute__((always_inline)) inline uint8_t* TextSequence(const uint8_t* p, size_t len, uint8_t* o) {
  const uint8_t b = p[0], b1 = p[1], b2 = len > 2 ? p[2] : 0;
  const bool c1 = b == 0xc2 && b1 < 0xa0;
  const bool special = b == 0xe2 && ((b1 == 0x80 && b2 >= 0xa8 && b2 <= 0xae) || (b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9));
  if (__builtin_expect(c1 || special, 0)) {
    const uint8_t low = c1 ? b1 : static_cast<uint8_t>(((b1 & 0x3f) << 6) | (b2 & 0x3f));
    memcpy(o, c1 ? "\\u00" : "\\u20", 4);
    memcpy(o + 4, kTables.hex[low], 2);
    return o + 6;
  }
  if (kWhole) {
    memcpy(o, p, 4);
  } else {
    for (size_t k = 0; k < len; k++) o[k] = p[k];
  }
  return o + len;
}

// A byte that begins no sequence, in text: its whole slot stored, the output advanced by its length.
__attribute__((always_inline)) inline uint8_t* TextByte(uint8_t b, uint8_t* o) {
  const Tables::TextSlot& t = kTables.text[b];
  memcpy(o, t.bytes, 4);
  return o + t.len;
}

// The top bit of each of the 16 bytes, as bits 0..15.
__attribute__((always_inline)) inline uint32_t Mask16(V16 v) {
#if defined(__SSE2__)
  return static_cast<uint32_t>(_mm_movemask_epi8(reinterpret_cast<__m128i>(v)));
#else
  uint64_t half[2];
  memcpy(half, &v, sizeof half);
  // Gathers bit 7 of each byte into the top byte of the product.
  constexpr uint64_t kTops = 0x8080808080808080ULL, kGather = 0x0002040810204081ULL;
  return static_cast<uint32_t>(((half[0] & kTops) * kGather) >> 56) | static_cast<uint32_t>(((half[1] & kTops) * kGather) >> 56) << 8;
#endif
}

// Bytes a text block reads: 16, and 3 more to see whether a sequence starting in it is whole.
constexpr size_t kTextBlockReach = 19;

// Bit k set when a valid UTF-8 sequence (RFC 3629, as Utf8Length) starts at p[k], for k < 16;
// reads p[0, 19). Each lead byte's range and its continuations are compared for all 16
// positions at once, with the second-byte limits of E0 (no overlongs), ED (no surrogates),
// F0 (no overlongs) and F4 (nothing above U+10FFFF).
__attribute__((always_inline)) inline uint32_t SequenceStarts(const uint8_t* p) {
  const V16 v0 = Load16(p), v1 = Load16(p + 1), v2 = Load16(p + 2), v3 = Load16(p + 3);
  auto is = [](auto mask) { return reinterpret_cast<V16>(mask); };  // a comparison's 0 / 0xff bytes
  const V16 c1 = is((v1 & 0xc0) == 0x80), c2 = is((v2 & 0xc0) == 0x80), c3 = is((v3 & 0xc0) == 0x80);
  const V16 lead2 = is(static_cast<V16>(v0 - 0xc2) < 0x1e);  // C2..DF
  const V16 lead3 = is((v0 & 0xf0) == 0xe0);                   // E0..EF
  const V16 lead4 = is(static_cast<V16>(v0 - 0xf0) < 5);      // F0..F4
  const V16 bad3 = (is(v0 == 0xe0) & is(v1 < 0xa0)) | (is(v0 == 0xed) & is(v1 > 0x9f));
  const V16 bad4 = (is(v0 == 0xf0) & is(v1 < 0x90)) | (is(v0 == 0xf4) & is(v1 > 0x8f));
  return Mask16((lead2 & c1) | (lead3 & c1 & c2 & ~bad3) | (lead4 & c1 & c2 & c3 & ~bad4));
}

// Escapes the text block at p (p[0, 19) readable): its 16 bytes, and the rest of a sequence
// that starts in it. Returns the bytes consumed (16 to 19). Each byte costs a table row, and
// the one branch per byte, on its bit in `starts`, is taken only where a sequence starts.
__attribute__((always_inline)) inline size_t TextBlock(const uint8_t* p, uint8_t** out) {
  const uint32_t starts = SequenceStarts(p);
  uint8_t* o = *out;
  size_t k = 0;
  while (k < 16) {
    if ((starts >> k) & 1) {
      const size_t len = kTables.text[p[k]].seq;
      o = TextSequence<true>(p + k, len, o);
      k += len;
    } else {
      o = TextByte(p[k], o);
      k++;
    }
  }
  *out = o;
  return k;
}

}  // namespace

// Whole 64-byte blocks are checked for the JSON rule, which implies the text rule; from the
// first block that fails, each rule is checked on its own until both have failed (a binary
// payload costs a block or two).
#ifdef UDPKIT_HEX_AVX2
typedef uint8_t V32 __attribute__((vector_size(32)));
typedef int8_t S32 __attribute__((vector_size(32)));

// Classify's first loop 32 bytes a vector where the CPU has AVX2 (JsonUnsafe as above, twice
// as wide): how many leading bytes, in whole 64s, need no look at all. Printable ASCII payloads
// are mostly this loop, which was 5% of a text listener's time at 1,200 bytes.
__attribute__((target("avx2"))) size_t PlainPrefix64(const uint8_t* p, size_t n) {
  size_t i = 0;
  for (; n - i >= 64; i += 64) {
    V32 a, b;
    memcpy(&a, p + i, 32);
    memcpy(&b, p + i + 32, 32);
    const V32 ua = reinterpret_cast<V32>(reinterpret_cast<S32>(static_cast<V32>(a + 1)) < 0x21) | reinterpret_cast<V32>(a == 0x22) | reinterpret_cast<V32>(a == 0x5c);
    const V32 ub = reinterpret_cast<V32>(reinterpret_cast<S32>(static_cast<V32>(b + 1)) < 0x21) | reinterpret_cast<V32>(b == 0x22) | reinterpret_cast<V32>(b == 0x5c);
    const V32 u = ua | ub;
    uint64_t q[4];
    memcpy(q, &u, sizeof q);
    if ((q[0] | q[1] | q[2] | q[3]) != 0) break;
  }
  return i;
}
#endif

uint8_t Classify(const uint8_t* p, size_t n) {
  size_t i = 0;
#ifdef UDPKIT_HEX_AVX2
  if (kHasAvx2) i = PlainPrefix64(p, n);
#endif
  while (i + 64 <= n && !Any64<true>(p + i)) i += 64;
  bool text = true, json = true;
  for (; i + 16 <= n && (text || json); i += 16) {
    const V16 v = Load16(p + i);
    text = text && !Any(TextUnsafe(v));
    json = json && !Any(JsonUnsafe(v));
  }
  for (; i < n && (text || json); i++) {
    text = text && !TextUnsafeByte(p[i]);
    json = json && !JsonUnsafeByte(p[i]);
  }
  return static_cast<uint8_t>((text ? kPlainText : 0) | (json ? kPlainJson : 0));
}

// 64 or 16 bytes at a time while none needs escaping; a block that has one goes through
// TextBlock; what is left at the end (under 16 bytes, or a block too near the end for
// TextBlock's reach) one byte at a time, with the bounds checked.
uint8_t* EscapeText(const uint8_t* p, size_t n, uint8_t* o) {
  size_t i = 0;
  bool plain = true;  // the last block needed no escaping: a long plain run may follow
  while (n - i >= 16) {
    if (plain && n - i >= 64 && !Any64<false>(p + i)) {
      memcpy(o, p + i, 64);
      o += 64;
      i += 64;
      continue;
    }
    plain = !Any(TextUnsafe(Load16(p + i)));
    if (plain) {
      memcpy(o, p + i, 16);
      o += 16;
      i += 16;
      continue;
    }
    if (n - i < kTextBlockReach) break;
    i += TextBlock(p + i, &o);
  }
  while (i < n) {
    const uint8_t b = p[i];
    if (kTables.lead[b].len != 0) {
      const size_t len = Utf8Length(p + i, n - i);
      if (len != 0) {
        o = TextSequence<false>(p + i, len, o);
        i += len;
        continue;
      }
    }
    o = TextByte(b, o);
    i++;
  }
  return o;
}

uint8_t* EscapeJson(const uint8_t* p, size_t n, uint8_t* o) {
  size_t i = 0;
  while (i < n) {
    if (n - i >= 64 && !Any64<true>(p + i)) {
      memcpy(o, p + i, 64);
      o += 64;
      i += 64;
      continue;
    }
    size_t stop = n;
    if (n - i >= 16) {
      if (!Any(JsonUnsafe(Load16(p + i)))) {
        memcpy(o, p + i, 16);
        o += 16;
        i += 16;
        continue;
      }
      stop = i + 16;
    }
    while (i < stop) {
      const uint8_t b = p[i];
      if (b < 0x80) {
        memcpy(o, kTables.json[b], 8);
        o += kTables.json_len[b];
        i++;
        continue;
      }
      const size_t len = Utf8Length(p + i, n - i);
      if (len == 0) return nullptr;
      for (size_t k = 0; k < len; k++) o[k] = p[i + k];
      o += len;
      i += len;
    }
  }
  return o;
}

#ifdef UDPKIT_HEX_AVX2
namespace {
// 32 bytes at a time where the CPU has AVX2 (checked once, at run time: the addon is built for
// any x86-64): each nibble looked up in a 16-entry table by vpshufb, the high and low digits
// interleaved, and the two lanes put back in order. About three times as fast as the SSE2 loop
// below, which was 7% of a --json listener's time on 1,200-byte binary payloads. Returns how
// many bytes it did (a multiple of 32).
__attribute__((target("avx2"))) size_t WriteHex32(const uint8_t* p, size_t n, uint8_t* o) {
  const __m256i digits = _mm256_setr_epi8('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f',
                                          '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f');
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  size_t i = 0;
  for (; n - i >= 32; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i high = _mm256_shuffle_epi8(digits, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
    const __m256i low = _mm256_shuffle_epi8(digits, _mm256_and_si256(v, nibble));
    // Per 128-bit lane: bytes 0-7 (and 16-23) in `a`, bytes 8-15 (and 24-31) in `b`.
    const __m256i a = _mm256_unpacklo_epi8(high, low);
    const __m256i b = _mm256_unpackhi_epi8(high, low);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 2 * i), _mm256_permute2x128_si256(a, b, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 2 * i + 32), _mm256_permute2x128_si256(a, b, 0x31));
  }
  return i;
}
}  // namespace
#endif

// 16 bytes at a time: each nibble becomes '0' + d, plus 39 more ('a' - '9' - 1) above 9, and the
// high and low digits are interleaved; the rest through the table.
uint8_t* WriteHex(const uint8_t* p, size_t n, uint8_t* o) {
  size_t i = 0;
#ifdef UDPKIT_HEX_AVX2
  if (kHasAvx2) i = WriteHex32(p, n, o);
#endif
#if defined(__clang__) || __GNUC__ >= 12  // __builtin_shufflevector
  for (; n - i >= 16; i += 16) {
    const V16 v = Load16(p + i);
    auto digits = [](V16 d) { return static_cast<V16>(d + '0' + (reinterpret_cast<V16>(d > 9) & 39)); };
    const V16 high = digits(static_cast<V16>(v >> 4)), low = digits(static_cast<V16>(v & 15));
    const V16 first = __builtin_shufflevector(high, low, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const V16 second = __builtin_shufflevector(high, low, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    memcpy(o + 2 * i, &first, 16);
    memcpy(o + 2 * i + 16, &second, 16);
  }
#endif
  for (; i < n; i++) memcpy(o + 2 * i, kTables.hex[p[i]], 2);
  return o + 2 * n;
}

// A JS string (UTF-16) as UTF-8, the way Buffer.from writes it (a lone surrogate is U+FFFD),
// or, with `json`, as JSON.stringify writes it, quotes included (a lone surrogate is \udxxx).
void AppendString(std::string* out, const char16_t* s, size_t n, bool json) {
  if (json) out->push_back('"');
  for (size_t i = 0; i < n; i++) {
    uint32_t c = s[i];
    const bool high = c >= 0xd800 && c <= 0xdbff, low = c >= 0xdc00 && c <= 0xdfff;
    if (high && i + 1 < n && s[i + 1] >= 0xdc00 && s[i + 1] <= 0xdfff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s[++i] - 0xdc00);
    } else if (high || low) {
      if (!json) {
        out->append("\xef\xbf\xbd");
        continue;
      }
      const char e[] = {'\\', 'u', kHex[c >> 12], kHex[(c >> 8) & 15], kHex[(c >> 4) & 15], kHex[c & 15]};
      out->append(e, sizeof e);
      continue;
    }
    if (json && (c < 0x20 || c == '"' || c == '\\')) {
      uint8_t e[8];  // EscapeJson copies 8-byte slots
      const uint8_t byte = static_cast<uint8_t>(c);
      const uint8_t* end = EscapeJson(&byte, 1, e);
      out->append(reinterpret_cast<const char*>(e), static_cast<size_t>(end - e));
      continue;
    }
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (c >> 6)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else if (c < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (c >> 12)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (c >> 18)));
      out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  if (json) out->push_back('"');
}

}  // namespace udpkit
