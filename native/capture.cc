// encodeCapture(pcapng, data, starts, lengths, ports, senders, hosts, from, to, localPort, out,
// state): datagrams [from, to) of a received batch written into `out` as capture records, each
// an IPv4 or IPv6 + UDP packet with its checksums, byte for byte what
// src/protocol/capture-write.ts writes (its fallback and specification; the layouts are at the
// top of that file and of capture-packet.ts). Done here because the per-datagram header writes,
// payload copy and checksum were most of what a capturing listener spent in JS. The contract is
// typed in src/native/binding.ts. Everything is bounds-checked: a wrong argument throws, never
// reads or writes outside the arrays.
#include "udpkit.h"

#include <cstring>

#if defined(__x86_64__) && (defined(__clang__) || __GNUC__ >= 12)
#include <immintrin.h>
#define UDPKIT_SUM_AVX2 1
#endif

namespace udpkit {

namespace {

#ifdef UDPKIT_SUM_AVX2
const bool kHasAvx2 = __builtin_cpu_supports("avx2");

// Adds p's 32-bit words, 32 bytes at a time, to `sum` (each word zero-extended into a 64-bit
// lane: no carry is lost) where the CPU has AVX2; returns how many bytes it did. The same sum as
// SumBytes' scalar loop, in a quarter of the instructions: the checksum pass over each payload
// was half of encoding a capture record.
__attribute__((target("avx2"))) size_t SumWords32(const uint8_t* p, size_t n, uint64_t* sum) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i a = zero, b = zero;
  size_t i = 0;
  for (; n - i >= 32; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    a = _mm256_add_epi64(a, _mm256_unpacklo_epi32(v, zero));
    b = _mm256_add_epi64(b, _mm256_unpackhi_epi32(v, zero));
  }
  uint64_t lanes[4];
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes), _mm256_add_epi64(a, b));
  *sum += lanes[0] + lanes[1] + lanes[2] + lanes[3];
  return i;
}
#endif

constexpr uint32_t kHostStride = 36;  // hosts: per sender [length 0/4/16, 0, 0, 0, src 16, dst 16]
constexpr uint32_t kMaxIpv4 = 65535 - 28;
constexpr uint32_t kMaxIpv6 = 65535 - 8;

// The ones'-complement sum of p[0..n) as big-endian 16-bit words (an odd last byte padded),
// folded to 16 bits. Summed 32 bits at a time in host order and turned around at the end
// (RFC 1071, 2(B)), which is what makes it cheap.
uint32_t SumBytes(const uint8_t* p, size_t n) {
  uint64_t sum = 0;
  size_t i = 0;
#ifdef UDPKIT_SUM_AVX2
  if (kHasAvx2 && n >= 64) i = SumWords32(p, n, &sum);
#endif
  for (; i + 4 <= n; i += 4) {
    uint32_t w;
    memcpy(&w, p + i, 4);
    sum += w;
  }
  if (i + 2 <= n) {
    uint16_t h;
    memcpy(&h, p + i, 2);
    sum += h;
    i += 2;
  }
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (i < n) sum += p[i];
#else
  if (i < n) sum += static_cast<uint32_t>(p[i]) << 8;
#endif
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  sum = ((sum & 0xff) << 8) | (sum >> 8);
#endif
  return static_cast<uint32_t>(sum);
}

uint32_t Fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~static_cast<uint32_t>(sum) & 0xffff;
}

inline void Be16(uint8_t* o, uint32_t v) {
  o[0] = static_cast<uint8_t>(v >> 8);
  o[1] = static_cast<uint8_t>(v);
}

inline void Le32(uint8_t* o, uint32_t v) {
  o[0] = static_cast<uint8_t>(v);
  o[1] = static_cast<uint8_t>(v >> 8);
  o[2] = static_cast<uint8_t>(v >> 16);
  o[3] = static_cast<uint8_t>(v >> 24);
}

// Writes the IP + UDP packet at `o` and returns its length.
uint32_t Packet(uint8_t* o, const uint8_t* host, uint32_t addresses, const uint8_t* payload, uint32_t length,
                uint32_t src_port, uint32_t dst_port) {
  bool v4 = host[0] == 4;
  uint32_t udp_length = 8 + length;
  uint8_t* udp;
  if (v4) {
    uint32_t total = 20 + udp_length;
    memset(o, 0, 20);
    o[0] = 0x45;
    Be16(o + 2, total);
    o[8] = 64;
    o[9] = 17;
    Be16(o + 10, Fold(0x4500 + total + 0x4011 + addresses));
    memcpy(o + 12, host + 4, 4);
    memcpy(o + 16, host + 20, 4);
    udp = o + 20;
  } else {
    memset(o, 0, 8);
    o[0] = 0x60;
    Be16(o + 4, udp_length);
    o[6] = 17;
    o[7] = 64;
    memcpy(o + 8, host + 4, 16);
    memcpy(o + 24, host + 20, 16);
    udp = o + 40;
  }
  memcpy(udp + 8, payload, length);
  uint32_t sum = Fold(uint64_t{addresses} + 17 + 2 * udp_length + src_port + dst_port + SumBytes(payload, length));
  Be16(udp, src_port);
  Be16(udp + 2, dst_port);
  Be16(udp + 4, udp_length);
  Be16(udp + 6, sum == 0 ? 0xffff : sum);
  return static_cast<uint32_t>(udp + udp_length - o);
}

napi_value Range(napi_env env, const char* message) { return ThrowRange(env, "UDPKIT_INVALID_ARGUMENT", message); }

}  // namespace

napi_value EncodeCapture(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12] = {};
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return ThrowNapiFailure(env);
  bool pcapng = false;
  uint8_t *data, *senders, *hosts, *out;
  uint32_t *starts, *lengths, *state;
  uint16_t* ports;
  size_t data_n, starts_n, lengths_n, ports_n, senders_n, hosts_n, out_n, state_n;
  int from = 0, to = 0, local_port = 0;
  if (!ArgBool(env, argv[0], &pcapng) ||
      !Typed(env, argv[1], napi_uint8_array, &data, &data_n, "data") ||
      !Typed(env, argv[2], napi_uint32_array, &starts, &starts_n, "starts") ||
      !Typed(env, argv[3], napi_uint32_array, &lengths, &lengths_n, "lengths") ||
      !Typed(env, argv[4], napi_uint16_array, &ports, &ports_n, "ports") ||
      !Typed(env, argv[5], napi_uint8_array, &senders, &senders_n, "senders") ||
      !Typed(env, argv[6], napi_uint8_array, &hosts, &hosts_n, "hosts") ||
      !ArgInt(env, argv[7], 0, INT32_MAX, &from, "from") || !ArgInt(env, argv[8], 0, INT32_MAX, &to, "to") ||
      !ArgPort(env, argv[9], &local_port) ||
      !Typed(env, argv[10], napi_uint8_array, &out, &out_n, "out") ||
      !Typed(env, argv[11], napi_uint32_array, &state, &state_n, "state")) {
    return nullptr;
  }
  size_t n = static_cast<size_t>(to);
  if (state_n < 4) return Range(env, "state must hold 4 numbers");
  if (from > to || n > starts_n || n > lengths_n || n > ports_n || n > senders_n) return Range(env, "datagrams outside the batch");
  size_t at = state[0];
  uint32_t time0 = state[2], time1 = state[3];
  uint32_t written = 0;
  for (size_t i = static_cast<size_t>(from); i < n; i++) {
    size_t k = senders[i];
    if ((k + 1) * kHostStride > hosts_n) return Range(env, "a sender outside hosts");
    const uint8_t* host = hosts + k * kHostStride;
    uint32_t length = lengths[i];
    if (host[0] != 4 && host[0] != 16) continue;
    if (length > (host[0] == 4 ? kMaxIpv4 : kMaxIpv6)) continue;
    if (static_cast<size_t>(starts[i]) + length > data_n) return Range(env, "a datagram outside data");
    uint32_t packet = (host[0] == 4 ? 28 : 48) + length;
    uint32_t padded = (packet + 3) & ~3u;
    size_t record = pcapng ? 32 + padded : 16 + packet;
    if (at + record > out_n) return Range(env, "out has too little room");
    uint32_t addresses = 0;
    for (uint32_t j = 0; j < host[0]; j += 2) {
      addresses += (static_cast<uint32_t>(host[4 + j]) << 8 | host[5 + j]) + (static_cast<uint32_t>(host[20 + j]) << 8 | host[21 + j]);
    }
    uint8_t* o = out + at;
    if (pcapng) {
      Packet(o + 28, host, addresses, data + starts[i], length, ports[i], static_cast<uint32_t>(local_port));
      memset(o + 28 + packet, 0, padded - packet);
      Le32(o, 6);
      Le32(o + 4, static_cast<uint32_t>(record));
      Le32(o + 8, 0);
      Le32(o + 12, time0);
      Le32(o + 16, time1);
      Le32(o + 20, packet);
      Le32(o + 24, packet);
      Le32(o + 28 + padded, static_cast<uint32_t>(record));
    } else {
      Packet(o + 16, host, addresses, data + starts[i], length, ports[i], static_cast<uint32_t>(local_port));
      Le32(o, time0);
      Le32(o + 4, time1);
      Le32(o + 8, packet);
      Le32(o + 12, packet);
    }
    at += record;
    written++;
  }
  state[0] = static_cast<uint32_t>(at);
  state[1] = written;
  return nullptr;
}

}  // namespace udpkit
