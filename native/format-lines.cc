// formatLines(json, data, starts, lengths, ports, senders, addresses, families, time, flags, out,
// state): a batch's text or --json lines written into `out`, with the escaping of format.cc.
// The contract is documented and typed in src/native/binding.ts; src/format/native-lines.ts
// is its one caller. Everything is bounds-checked: a wrong argument throws, never reads or
// writes outside the arrays.
#include "udpkit.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace udpkit {

namespace {

constexpr char kPrefix[] = "received message: ";
constexpr char kFromPort[] = " from PORT ";
constexpr char kOn[] = " on ";
constexpr char kTime[] = "{\"time\":\"";
constexpr char kAddress[] = "\",\"from\":{\"address\":";
constexpr char kPort[] = ",\"port\":";
constexpr char kFamily[] = ",\"family\":\"";
constexpr char kSize[] = "\"},\"size\":";
constexpr char kText[] = ",\"text\":\"";
constexpr char kHexBody[] = ",\"hex\":\"";
constexpr size_t kDigits = 10;  // a uint32 in decimal, at most

template <size_t N>
uint8_t* Put(uint8_t* o, const char (&s)[N]) {
  memcpy(o, s, N - 1);
  return o + N - 1;
}

uint8_t* Decimal(uint8_t* o, uint32_t n) {
  char digits[kDigits];
  int k = 0;
  do {
    digits[k++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  while (k > 0) *o++ = static_cast<uint8_t>(digits[--k]);
  return o;
}

// A sender's strings, encoded once per call into Globals::format_text: the address (UTF-8 for
// text, JSON-quoted for JSON) then, for JSON, the family.
struct Sender {
  uint32_t at, address, family;
};

// Reads element `s` of `array`, which must be a string, into `g->format_utf16`.
bool ReadString(napi_env env, Globals* g, napi_value array, uint32_t s, const char* what) {
  napi_value v;
  napi_valuetype t = napi_undefined;
  size_t length = 0;
  if (napi_get_element(env, array, s, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    char message[96];
    snprintf(message, sizeof message, "%s[%u] must be a string", what, s);
    ThrowType(env, message);
    return false;
  }
  if (napi_get_value_string_utf16(env, v, nullptr, 0, &length) != napi_ok) return ThrowNapiFailure(env), false;
  g->format_utf16.resize(length + 1);
  if (napi_get_value_string_utf16(env, v, &g->format_utf16[0], length + 1, &length) != napi_ok) return ThrowNapiFailure(env), false;
  g->format_utf16.resize(length);
  return true;
}

bool LoadSender(napi_env env, Globals* g, napi_value addresses, napi_value families, bool json, uint32_t s, Sender* out) {
  std::string& text = g->format_text;
  out->at = static_cast<uint32_t>(text.size());
  if (!ReadString(env, g, addresses, s, "addresses")) return false;
  AppendString(&text, g->format_utf16.data(), g->format_utf16.size(), json);
  out->address = static_cast<uint32_t>(text.size()) - out->at;
  if (json) {
    if (!ReadString(env, g, families, s, "families")) return false;
    AppendString(&text, g->format_utf16.data(), g->format_utf16.size(), false);
  }
  out->family = static_cast<uint32_t>(text.size()) - out->at - out->address;
  return true;
}

}  // namespace

napi_value FormatLines(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return ThrowNapiFailure(env);
  if (argc < 12) return ThrowType(env, "formatLines takes 12 arguments");
  Globals* g = GetGlobals(env);
  bool json = false;
  if (!ArgBool(env, argv[0], &json)) return nullptr;
  uint8_t *data, *senders, *flags = nullptr, *out;
  const bool has_flags = !IsNullish(env, argv[9]);
  uint32_t *starts, *lengths, *state;
  uint16_t* ports;
  size_t data_len, starts_len, lengths_len, ports_len, senders_len, flags_len = 0, out_len, state_len;
  if (!Typed(env, argv[1], napi_uint8_array, &data, &data_len, "data") ||
      !Typed(env, argv[2], napi_uint32_array, &starts, &starts_len, "starts") ||
      !Typed(env, argv[3], napi_uint32_array, &lengths, &lengths_len, "lengths") ||
      !Typed(env, argv[4], napi_uint16_array, &ports, &ports_len, "ports") ||
      !Typed(env, argv[5], napi_uint8_array, &senders, &senders_len, "senders") ||
      (has_flags && !Typed(env, argv[9], napi_uint8_array, &flags, &flags_len, "flags")) ||
      !Typed(env, argv[10], napi_uint8_array, &out, &out_len, "out") ||
      !Typed(env, argv[11], napi_uint32_array, &state, &state_len, "state")) {
    return nullptr;
  }
  uint32_t sender_count = 0;
  if (napi_get_array_length(env, argv[6], &sender_count) != napi_ok) return ThrowType(env, "addresses must be an array");
  char time[64] = "";
  size_t time_len = 0;
  napi_valuetype time_type = napi_undefined;
  if (json && (napi_typeof(env, argv[8], &time_type) != napi_ok || time_type != napi_string ||
               napi_get_value_string_utf8(env, argv[8], time, sizeof time, &time_len) != napi_ok || time_len + 1 >= sizeof time)) {
    return ThrowType(env, "time must be a string of an ISO date");
  }
  if (out_len > UINT32_MAX) out_len = UINT32_MAX;  // positions travel in a Uint32Array
  if (state_len < 4) return ThrowRange(env, "UDPKIT_INVALID_ARGUMENT", "state must hold 4 numbers");
  uint32_t next = state[0];
  const uint32_t to = state[1];
  size_t pos = state[2];
  size_t count = starts_len < lengths_len ? starts_len : lengths_len;
  if (ports_len < count) count = ports_len;
  if (senders_len < count) count = senders_len;
  if (has_flags && flags_len < count) count = flags_len;
  if (next > to || to > count || pos > out_len) return ThrowRange(env, "UDPKIT_INVALID_ARGUMENT", "state is outside the batch or the output");

  // Senders are encoded when first met; slot[s] is where sender s is in `loaded`, or -1.
  int16_t slot[256];
  memset(slot, -1, sizeof slot);
  Sender loaded[256];
  int loaded_count = 0;
  g->format_text.clear();
  for (; next < to; next++) {
    const uint64_t start = starts[next], len = lengths[next];
    const uint32_t s = senders[next];
    if (start + len > data_len || s >= sender_count) return ThrowRange(env, "UDPKIT_INVALID_ARGUMENT", "a datagram is outside data, or its sender outside addresses");
    if (slot[s] < 0) {
      if (!LoadSender(env, g, argv[6], argv[7], json, s, &loaded[loaded_count])) return nullptr;
      slot[s] = static_cast<int16_t>(loaded_count++);
    }
    const Sender& who = loaded[slot[s]];
    const uint8_t* address = reinterpret_cast<const uint8_t*>(g->format_text.data()) + who.at;
    const uint8_t* payload = data + start;
    const uint8_t flag = has_flags ? flags[next] : 0;
    const uint64_t need = json ? sizeof kTime + time_len + sizeof kAddress + who.address + sizeof kPort + kDigits + sizeof kFamily + who.family +
                                     sizeof kSize + kDigits + sizeof kText + len * kJsonGrowth + 3
                               : sizeof kPrefix + len * kTextGrowth + sizeof kFromPort + kDigits + sizeof kOn + who.address + 1;
    if (pos + need > out_len) {
      state[0] = next;
      state[2] = static_cast<uint32_t>(pos);
      state[3] = need < UINT32_MAX ? static_cast<uint32_t>(need) : UINT32_MAX;
      napi_value result;
      napi_get_boolean(env, false, &result);
      return result;
    }
    uint8_t* o = out + pos;
    if (!json) {
      o = Put(o, kPrefix);
      if (flag & kPlainText) {
        memcpy(o, payload, len);
        o += len;
      } else {
        o = EscapeText(payload, len, o);
      }
      o = Put(o, kFromPort);
      o = Decimal(o, ports[next]);
      o = Put(o, kOn);
      memcpy(o, address, who.address);
      o += who.address;
      *o++ = '\n';
    } else {
      o = Put(o, kTime);
      memcpy(o, time, time_len);
      o = Put(o + time_len, kAddress);
      memcpy(o, address, who.address);
      o = Put(o + who.address, kPort);
      o = Decimal(o, ports[next]);
      o = Put(o, kFamily);
      memcpy(o, address + who.address, who.family);
      o = Put(o + who.family, kSize);
      o = Decimal(o, static_cast<uint32_t>(len));
      uint8_t* body = o;
      o = Put(o, kText);
      if (flag & kPlainJson) {
        memcpy(o, payload, len);
        o += len;
      } else {
        o = EscapeJson(payload, len, o);
      }
      if (o == nullptr) o = WriteHex(payload, len, Put(body, kHexBody));
      *o++ = '"';
      *o++ = '}';
      *o++ = '\n';
    }
    pos = static_cast<size_t>(o - out);
  }
  state[0] = next;
  state[2] = static_cast<uint32_t>(pos);
  state[3] = 0;
  napi_value result;
  napi_get_boolean(env, true, &result);
  return result;
}

}  // namespace udpkit
