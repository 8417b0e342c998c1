// Formatting received datagrams as lines, in C: the textbook text line and the --json line of a
// whole batch, written into a buffer the caller provides. The escaping is specified once, in
// src/format/escape.ts, whose TypeScript writers do the same; keep the two in step
// (test/unit/format-equivalence.test.ts checks them byte for byte against each other).
//
// Runs of bytes that need no escaping are found 64 and 16 at a time with GCC/Clang vector
// extensions (SSE2 on x86-64, NEON on arm64) and copied with memcpy; only the blocks holding
// another byte are walked byte by byte, through tables rather than branches.
#include "udpkit.h"

#include <cstring>
#include <string>

namespace udpkit {

namespace {

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
  char text[256][4];
  uint8_t text_len[256];
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
      char* t = text[b];
      if ((b >= 0x20 && b < 0x7f && b != '\\') || b == '\t') {
        t[0] = static_cast<char>(b);
        text_len[b] = 1;
      } else if (named != 0) {
        t[0] = '\\';
        t[1] = named;
        text_len[b] = 2;
      } else {
        memcpy(t, "\\x", 2);
        memcpy(t + 2, hex[b], 2);
        text_len[b] = 4;
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
// (C2 80..C2 9F), U+2028..U+202E (E2 80 A8..AE) or U+2066..U+2069 (E2 81 A6..A9).
__attribute__((always_inline)) inline uint8_t* TextSequence(const uint8_t* p, size_t len, uint8_t* o) {
  const uint8_t b = p[0], b1 = p[1], b2 = len > 2 ? p[2] : 0;
  const bool c1 = b == 0xc2 && b1 < 0xa0;
  const bool special = b == 0xe2 && ((b1 == 0x80 && b2 >= 0xa8 && b2 <= 0xae) || (b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9));
  if (c1 || special) {
    const uint8_t low = c1 ? b1 : static_cast<uint8_t>(((b1 & 0x3f) << 6) | (b2 & 0x3f));
    memcpy(o, c1 ? "\\u00" : "\\u20", 4);
    memcpy(o + 4, kTables.hex[low], 2);
    return o + 6;
  }
  for (size_t k = 0; k < len; k++) o[k] = p[k];
  return o + len;
}

}  // namespace

// Whole 64-byte blocks are checked for the JSON rule, which implies the text rule; from the
// first block that fails, each rule is checked on its own until both have failed (a binary
// payload costs a block or two).
uint8_t Classify(const uint8_t* p, size_t n) {
  size_t i = 0;
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

// 64 or 16 bytes at a time while none needs escaping; byte by byte through a block that has one.
uint8_t* EscapeText(const uint8_t* p, size_t n, uint8_t* o) {
  size_t i = 0;
  while (i < n) {
    if (n - i >= 64 && !Any64<false>(p + i)) {
      memcpy(o, p + i, 64);
      o += 64;
      i += 64;
      continue;
    }
    size_t stop = n;
    if (n - i >= 16) {
      if (!Any(TextUnsafe(Load16(p + i)))) {
        memcpy(o, p + i, 16);
        o += 16;
        i += 16;
        continue;
      }
      stop = i + 16;
    }
    while (i < stop) {
      const uint8_t b = p[i];
      if (kTables.lead[b].len != 0) {
        const size_t len = Utf8Length(p + i, n - i);
        if (len != 0) {
          o = TextSequence(p + i, len, o);
          i += len;
          continue;
        }
      }
      memcpy(o, kTables.text[b], 4);
      o += kTables.text_len[b];
      i++;
    }
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

uint8_t* WriteHex(const uint8_t* p, size_t n, uint8_t* o) {
  for (size_t i = 0; i < n; i++) memcpy(o + 2 * i, kTables.hex[p[i]], 2);
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
