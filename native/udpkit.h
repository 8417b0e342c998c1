// udpkit_native: one non-blocking UDP socket that receives with recvmmsg and sends with
// sendmmsg, many datagrams per syscall and per call into JS; and the lines a received batch is
// shown as, formatted in C (format.cc, format-lines.cc). Optional: src/native/binding.ts
// loads it when built and udpkit falls back to node:dgram otherwise. The JS API is documented
// (and typed) in src/native/binding.ts.
#pragma once

#ifndef __linux__
#error "udpkit_native is Linux-only (recvmmsg, sendmmsg, SO_RXQ_OVFL); udpkit uses node:dgram elsewhere"
#endif

#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <string>

namespace udpkit {

// Bumped when the JS-visible API changes, so binding.ts refuses a stale build/ directory.
constexpr uint32_t kAbiVersion = 7;

constexpr int kBatch = 64;             // datagrams per recvmmsg / sendmmsg
constexpr int kBatchesPerWakeup = 16;  // then back to the event loop so timers and output run
constexpr size_t kSlot = 65536;        // > the largest UDP payload (65527 over IPv6): no truncation
constexpr int kCacheSize = 8;          // senders whose strings are kept across batches
constexpr size_t kAddrText = INET6_ADDRSTRLEN + IF_NAMESIZE + 8;  // "::ffff:" + text + "%ifname"

// A sender without its port: what the string cache and the per-batch dedup compare.
struct AddrKey {
  uint32_t family;  // AF_INET or AF_INET6; 0 when the kernel gave no address
  uint32_t scope;   // IPv6 scope id (link-local senders), else 0
  uint8_t bytes[16];
};

// A sender whose strings are cached: display ("1.2.3.4" for a mapped "::ffff:1.2.3.4") at
// index 2k of Socket::cache_strings, reply (what to hand back to this socket to reach it; the
// same string unless mapped) at 2k+1. Node 20's Node-API cannot reference a string directly.
struct CacheEntry {
  bool used = false;
  AddrKey key{};
};

// The JS-owned memory batches are delivered in, created once and reused (see receive.cc).
struct ArenaRefs {
  napi_ref data = nullptr, starts = nullptr, lengths = nullptr, ports = nullptr, index = nullptr;
  napi_ref flags = nullptr;  // per datagram: kPlainText, kPlainJson (see Classify)
};

struct Socket {
  napi_env env = nullptr;
  napi_ref wrapper = nullptr;  // weak, except while polling (an active socket is not collected)
  bool strong = false;
  int fd = -1;
  int family = AF_INET;
  bool closed = false;
  bool refed = true;
  uv_poll_t* poll = nullptr;  // created on first use; freed in its close callback
  bool receiving = false;
  int in_poll = 0;  // > 0 while OnPoll runs: defer what its open callback scope still uses
  bool destroy_async_later = false;
  napi_async_context async = nullptr;
  napi_ref on_batch = nullptr, on_error = nullptr, on_writable = nullptr;
  int poll_errors = 0;       // POLLERR wakeups in a row that carried no socket error
  uint32_t seen_drops = 0;  // the kernel's drop counter as last read (SO_MEMINFO, or SO_RXQ_OVFL stamps)
  bool no_gso = false;      // the kernel refused UDP_SEGMENT on this socket once: send one by one
  ArenaRefs arena;
  CacheEntry cache[kCacheSize];
  napi_ref cache_strings = nullptr;  // a JS array of 2 * kCacheSize strings, never shown to JS
  int cache_next = 0;
  // recvmmsg scratch, kept here rather than on the stack (about 10 KB).
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  sockaddr_in6 names[kBatch];
  alignas(cmsghdr) char control[kBatch][64];
};

// Per-environment data (napi instance data).
struct Globals {
  napi_ref families = nullptr;  // the JS array ["IPv4", "IPv6"], so batches reuse two strings
  bool tearing_down = false;  // the environment is exiting: finalizers must not touch JS
  // formatLines scratch, kept so that a call allocates nothing: senders' encoded strings, and
  // the string being read.
  std::string format_text;
  std::u16string format_utf16;
};

// util.cc: errors, arguments, addresses.
napi_value ThrowErrno(napi_env env, int err, const char* syscall, const char* address = nullptr, int port = -1);
napi_value MakeErrnoError(napi_env env, int err, const char* syscall, const char* address = nullptr, int port = -1);
napi_value ThrowType(napi_env env, const char* message);
napi_value ThrowRange(napi_env env, const char* code, const char* message);
napi_value ThrowNapiFailure(napi_env env);
bool ArgString(napi_env env, napi_value v, char* out, size_t size, const char* what);
bool ArgPort(napi_env env, napi_value v, int* port);
bool ArgInt(napi_env env, napi_value v, int min, int max, int* out, const char* what);
bool ArgBool(napi_env env, napi_value v, bool* out);
bool IsNullish(napi_env env, napi_value v);
int ParseAddress(const char* text, int port, int socket_family, sockaddr_in6* out, socklen_t* len);
AddrKey KeyOf(const sockaddr_in6* name, socklen_t len);
bool IsMapped(const AddrKey& key);
void FormatKey(const AddrKey& key, char* display, char* reply, bool* mapped);
napi_value FormatSockaddr(napi_env env, const sockaddr_in6* name);
Globals* GetGlobals(napi_env env);

// A typed array argument of type `want`; a TypeError naming `what` otherwise.
template <typename T>
bool Typed(napi_env env, napi_value v, napi_typedarray_type want, T** data, size_t* length, const char* what) {
  napi_typedarray_type type;
  void* p = nullptr;
  // Fails (napi_invalid_arg) for anything but a typed array.
  if (napi_get_typedarray_info(env, v, &type, length, &p, nullptr, nullptr) != napi_ok || type != want) {
    char message[96];
    snprintf(message, sizeof message, "%s is not the typed array it must be", what);
    ThrowType(env, message);
    return false;
  }
  *data = static_cast<T*>(p);
  return true;
}
void ReportCallbackException(napi_env env);

// udpkit.cc and poll.cc: calls, polling and closing.
struct Call {
  napi_value self = nullptr;
  Socket* s = nullptr;
  size_t argc = 6;
  napi_value argv[6] = {};
};
bool GetCall(napi_env env, napi_callback_info info, Call* c, const char* syscall);
// Reads the socket's kernel drop counter into seen_drops (when larger); false without SO_MEMINFO.
bool RefreshDrops(Socket* s);
int UpdatePoll(Socket* s);
void CloseSocket(Socket* s, bool from_finalizer);

// format.cc: the escaping specified in src/format/escape.ts. Each Escape/Write function writes
// at `out` and returns the end; the caller leaves room for kTextGrowth output bytes per input
// byte (text), kJsonGrowth per byte and 2 more (JSON), 2 per byte (hex).
constexpr uint8_t kPlainText = 1;  // flags bit: printable ASCII or tab, no backslash (as it is in text)
constexpr uint8_t kPlainJson = 2;  // flags bit: printable ASCII, no `"` or backslash (as it is in JSON)
constexpr size_t kTextGrowth = 4;  // a byte written \xNN
constexpr size_t kJsonGrowth = 6;  // a C0 byte written \u00xx
uint8_t Classify(const uint8_t* p, size_t n);
uint8_t* EscapeText(const uint8_t* p, size_t n, uint8_t* out);
uint8_t* EscapeJson(const uint8_t* p, size_t n, uint8_t* out);  // nullptr when not valid UTF-8
uint8_t* WriteHex(const uint8_t* p, size_t n, uint8_t* out);
void AppendString(std::string* out, const char16_t* s, size_t n, bool json);

// format-lines.cc
napi_value FormatLines(napi_env env, napi_callback_info info);

// capture.cc
napi_value EncodeCapture(napi_env env, napi_callback_info info);

// pipe.cc
napi_value GrowPipe(napi_env env, napi_callback_info info);

// receive.cc
napi_value StartReceiving(napi_env env, napi_callback_info info);
napi_value StopReceiving(napi_env env, napi_callback_info info);
void DeleteReceiveRefs(Socket* s);
void ReleaseReceiveMemory(Socket* s);
void ReadBatches(Socket* s, napi_value self);
void ReportReceiveError(Socket* s, napi_value self, int err, const char* syscall);

// send.cc
napi_value Send(napi_env env, napi_callback_info info);
napi_value SendBatch(napi_env env, napi_callback_info info);
napi_value SendSpans(napi_env env, napi_callback_info info);
napi_value WaitWritable(napi_env env, napi_callback_info info);
void FireWritable(Socket* s, napi_value self);

}  // namespace udpkit
