// Receiving: on readable, recvmmsg up to 64 datagrams at a time into one reused arena and hand
// each batch to JS in one call, up to kBatchesPerWakeup batches before yielding to the loop.
//
// The arena and the typed arrays are JS objects created once and referenced, so a batch
// allocates nothing big, and memory JS still holds (against the rules) stays valid: only its
// contents change. Their pointers are re-read for every batch, so a buffer JS detached (by
// transferring it) is noticed and replaced instead of written through.
#include "udpkit.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <initializer_list>

namespace udpkit {

namespace {

struct Arena {
  uint8_t* data;
  uint32_t* starts;
  uint32_t* lengths;
  uint16_t* ports;
  uint8_t* index;
  uint8_t* flags;
  napi_value values[6];  // data, starts, lengths, ports, index, flags
};

// Offsets of the typed arrays in their shared ArrayBuffer.
constexpr size_t kStartsAt = 0, kLengthsAt = kBatch * 4, kPortsAt = kBatch * 8, kIndexAt = kBatch * 10;
constexpr size_t kFlagsAt = kBatch * 11;
constexpr size_t kMetaBytes = kBatch * 12;

bool View(napi_env env, napi_ref ref, napi_typedarray_type want, void** data, napi_value* value) {
  if (ref == nullptr || napi_get_reference_value(env, ref, value) != napi_ok || *value == nullptr) return false;
  napi_typedarray_type type;
  size_t length = 0;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, *value, &type, &length, data, &ab, &offset) != napi_ok) return false;
  return type == want && length == static_cast<size_t>(kBatch) && *data != nullptr;  // detached: length 0
}

bool LookupArena(napi_env env, Socket* s, Arena* a) {
  void* p[6] = {};
  size_t len = 0;
  if (s->arena.data == nullptr || napi_get_reference_value(env, s->arena.data, &a->values[0]) != napi_ok ||
      a->values[0] == nullptr || napi_get_buffer_info(env, a->values[0], &p[0], &len) != napi_ok ||
      len != kBatch * kSlot || p[0] == nullptr) {
    return false;
  }
  if (!View(env, s->arena.starts, napi_uint32_array, &p[1], &a->values[1]) ||
      !View(env, s->arena.lengths, napi_uint32_array, &p[2], &a->values[2]) ||
      !View(env, s->arena.ports, napi_uint16_array, &p[3], &a->values[3]) ||
      !View(env, s->arena.index, napi_uint8_array, &p[4], &a->values[4]) ||
      !View(env, s->arena.flags, napi_uint8_array, &p[5], &a->values[5])) {
    return false;
  }
  a->data = static_cast<uint8_t*>(p[0]);
  a->starts = static_cast<uint32_t*>(p[1]);
  a->lengths = static_cast<uint32_t*>(p[2]);
  a->ports = static_cast<uint16_t*>(p[3]);
  a->index = static_cast<uint8_t*>(p[4]);
  a->flags = static_cast<uint8_t*>(p[5]);
  return true;
}

void Replace(napi_env env, napi_ref* ref, napi_value value) {
  if (*ref != nullptr) napi_delete_reference(env, *ref);
  *ref = nullptr;
  napi_create_reference(env, value, 1, ref);
}

bool GetArena(napi_env env, Socket* s, Arena* a) {
  if (LookupArena(env, s, a)) return true;
  // First batch, or JS detached one of them: make a new set (about 4 MiB, touched lazily).
  void* data;
  void* meta;
  napi_value buf, ab, views[5];
  if (napi_create_buffer(env, kBatch * kSlot, &data, &buf) != napi_ok ||
      napi_create_arraybuffer(env, kMetaBytes, &meta, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_uint32_array, kBatch, ab, kStartsAt, &views[0]) != napi_ok ||
      napi_create_typedarray(env, napi_uint32_array, kBatch, ab, kLengthsAt, &views[1]) != napi_ok ||
      napi_create_typedarray(env, napi_uint16_array, kBatch, ab, kPortsAt, &views[2]) != napi_ok ||
      napi_create_typedarray(env, napi_uint8_array, kBatch, ab, kIndexAt, &views[3]) != napi_ok ||
      napi_create_typedarray(env, napi_uint8_array, kBatch, ab, kFlagsAt, &views[4]) != napi_ok) {
    return false;
  }
  Replace(env, &s->arena.data, buf);
  Replace(env, &s->arena.starts, views[0]);
  Replace(env, &s->arena.lengths, views[1]);
  Replace(env, &s->arena.ports, views[2]);
  Replace(env, &s->arena.index, views[3]);
  Replace(env, &s->arena.flags, views[4]);
  return LookupArena(env, s, a);
}

// One distinct sender of the current batch, with its strings as locals of the batch's scope.
struct Distinct {
  AddrKey key;
  napi_value display, family, reply;
};

// The JS arrays holding cached and family strings, fetched once per batch when first needed.
struct Strings {
  napi_value cache = nullptr;
  napi_value families = nullptr;
};

bool SameKey(const AddrKey& a, const AddrKey& b) { return memcmp(&a, &b, sizeof a) == 0; }

bool FetchStrings(napi_env env, Socket* s, Globals* g, Strings* st) {
  if (st->cache != nullptr) return true;
  if (napi_get_reference_value(env, g->families, &st->families) != napi_ok || st->families == nullptr) return false;
  if (s->cache_strings != nullptr) napi_get_reference_value(env, s->cache_strings, &st->cache);
  if (st->cache != nullptr) return true;
  for (CacheEntry& e : s->cache) e.used = false;
  if (napi_create_array_with_length(env, 2 * kCacheSize, &st->cache) != napi_ok) return false;
  return napi_create_reference(env, st->cache, 1, &s->cache_strings) == napi_ok;
}

// Fills d with the sender's strings: from the cache when seen before (no new strings in the
// usual one-or-few-senders case), else formatted once and cached, evicting round-robin.
bool SenderStrings(napi_env env, Socket* s, Globals* g, Strings* st, const AddrKey& key, Distinct* d) {
  if (!FetchStrings(env, s, g, st)) return false;
  d->key = key;
  bool mapped = IsMapped(key);
  if (napi_get_element(env, st->families, key.family == AF_INET6 && !mapped ? 1 : 0, &d->family) != napi_ok) return false;
  for (int k = 0; k < kCacheSize; k++) {
    if (s->cache[k].used && SameKey(s->cache[k].key, key)) {
      return napi_get_element(env, st->cache, 2 * k, &d->display) == napi_ok &&
             napi_get_element(env, st->cache, 2 * k + 1, &d->reply) == napi_ok;
    }
  }
  char display[kAddrText], reply[kAddrText];
  FormatKey(key, display, reply, &mapped);
  if (napi_create_string_utf8(env, display, NAPI_AUTO_LENGTH, &d->display) != napi_ok) return false;
  d->reply = d->display;
  if (mapped && napi_create_string_utf8(env, reply, NAPI_AUTO_LENGTH, &d->reply) != napi_ok) return false;
  int k = s->cache_next;
  s->cache_next = (k + 1) % kCacheSize;
  s->cache[k].key = key;
  s->cache[k].used = napi_set_element(env, st->cache, 2 * k, d->display) == napi_ok &&
                     napi_set_element(env, st->cache, 2 * k + 1, d->reply) == napi_ok;
  return true;
}

uint16_t PortOf(const sockaddr_in6& name) {
  // sin_port and sin6_port sit at the same offset; spelled out for clarity.
  if (name.sin6_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(name).sin_port);
  return name.sin6_family == AF_INET6 ? ntohs(name.sin6_port) : 0;
}

void ReadDropCounter(Socket* s, msghdr* h) {
  if (h->msg_controllen == 0) return;
  for (cmsghdr* c = CMSG_FIRSTHDR(h); c != nullptr; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL && c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
      memcpy(&s->seen_drops, CMSG_DATA(c), sizeof(uint32_t));
    }
  }
}

// Reads and delivers one batch. True when it was full and delivered: there may be more.
bool ReadOneBatch(Socket* s, Globals* g, napi_value self) {
  napi_env env = s->env;
  Arena a;
  if (!GetArena(env, s, &a)) {
    // Out of memory: stop, or the still-readable socket would wake us again at once.
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
    s->receiving = false;
    UpdatePoll(s);
    ReportReceiveError(s, self, ENOMEM, "recvmmsg");
    return false;
  }
  for (int i = 0; i < kBatch; i++) {
    s->iov[i].iov_base = a.data + i * kSlot;
    s->iov[i].iov_len = kSlot;
    msghdr& h = s->msgs[i].msg_hdr;
    h.msg_name = &s->names[i];
    h.msg_namelen = sizeof s->names[i];
    h.msg_iov = &s->iov[i];
    h.msg_iovlen = 1;
    h.msg_control = s->control[i];
    h.msg_controllen = sizeof s->control[i];
    h.msg_flags = 0;
  }
  int n;
  do {
    n = recvmmsg(s->fd, s->msgs, kBatch, MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    int err = errno;
    if (n < 0 && err != EAGAIN && err != EWOULDBLOCK) ReportReceiveError(s, self, err, "recvmmsg");
    return false;
  }
  // When the batch was taken, on the wall clock to the microsecond (a capture's packet times).
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  Distinct distinct[kBatch];
  Strings strings;
  int count = 0, last = -1;
  for (int i = 0; i < n; i++) {
    msghdr& h = s->msgs[i].msg_hdr;
    a.starts[i] = static_cast<uint32_t>(i * kSlot);
    a.lengths[i] = s->msgs[i].msg_len;
    a.flags[i] = Classify(a.data + static_cast<size_t>(i) * kSlot, s->msgs[i].msg_len);
    a.ports[i] = PortOf(s->names[i]);
    ReadDropCounter(s, &h);
    AddrKey key = KeyOf(&s->names[i], h.msg_namelen);
    if (last < 0 || !SameKey(distinct[last].key, key)) {
      last = -1;
      for (int k = 0; k < count && last < 0; k++) {
        if (SameKey(distinct[k].key, key)) last = k;
      }
      if (last < 0) {
        if (!SenderStrings(env, s, g, &strings, key, &distinct[count])) {
          napi_value ignored;  // out of memory: this batch is lost; say so rather than hide it
          napi_get_and_clear_last_exception(env, &ignored);
          ReportReceiveError(s, self, ENOMEM, "recvmmsg");
          return false;
        }
        last = count++;
      }
    }
    a.index[i] = static_cast<uint8_t>(last);
  }
  napi_value argv[11], cb = nullptr;
  napi_create_uint32(env, static_cast<uint32_t>(n), &argv[0]);
  for (int i = 0; i < 5; i++) argv[1 + i] = a.values[i];
  napi_create_array_with_length(env, count, &argv[6]);
  napi_create_array_with_length(env, count, &argv[7]);
  napi_create_array_with_length(env, count, &argv[8]);
  for (int k = 0; k < count; k++) {
    napi_set_element(env, argv[6], k, distinct[k].display);
    napi_set_element(env, argv[7], k, distinct[k].family);
    napi_set_element(env, argv[8], k, distinct[k].reply);
  }
  argv[9] = a.values[5];
  napi_create_double(env, static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec / 1000) / 1e3, &argv[10]);
  napi_get_reference_value(env, s->on_batch, &cb);
  if (cb == nullptr || napi_call_function(env, self, cb, 11, argv, nullptr) != napi_ok) {
    ReportCallbackException(env);
    return false;
  }
  return n == kBatch;
}

}  // namespace

void ReportReceiveError(Socket* s, napi_value self, int err, const char* syscall) {
  napi_env env = s->env;
  napi_value cb = nullptr;
  if (s->on_error != nullptr) napi_get_reference_value(env, s->on_error, &cb);
  napi_value error = MakeErrnoError(env, err, syscall);
  if (cb != nullptr && error != nullptr && napi_call_function(env, self, cb, 1, &error, nullptr) != napi_ok) {
    ReportCallbackException(env);
  }
}

void ReadBatches(Socket* s, napi_value self) {
  Globals* g = GetGlobals(s->env);
  for (int b = 0; b < kBatchesPerWakeup && s->receiving && !s->closed; b++) {
    napi_handle_scope scope;  // one per batch: its strings and arrays die with it
    if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
    bool more = ReadOneBatch(s, g, self);
    napi_close_handle_scope(s->env, scope);
    if (!more) return;
  }
}

void DeleteReceiveRefs(Socket* s) {
  if (s->on_batch != nullptr) napi_delete_reference(s->env, s->on_batch);
  if (s->on_error != nullptr) napi_delete_reference(s->env, s->on_error);
  s->on_batch = s->on_error = nullptr;
}

// Drops the arena and the cached strings (JS may still hold the arena: it is JS memory).
void ReleaseReceiveMemory(Socket* s) {
  for (napi_ref* r : {&s->arena.data, &s->arena.starts, &s->arena.lengths, &s->arena.ports, &s->arena.index, &s->arena.flags,
                      &s->cache_strings}) {
    if (*r != nullptr) napi_delete_reference(s->env, *r);
    *r = nullptr;
  }
  for (CacheEntry& e : s->cache) e.used = false;
}

// startReceiving(onBatch, onError): (re)starts; the callbacks replace earlier ones.
napi_value StartReceiving(napi_env env, napi_callback_info info) {
  Call c;
  if (!GetCall(env, info, &c, "recvmmsg")) return nullptr;
  napi_valuetype t0, t1;
  napi_typeof(env, c.argv[0], &t0);
  napi_typeof(env, c.argv[1], &t1);
  if (t0 != napi_function || t1 != napi_function) return ThrowType(env, "onBatch and onError must be functions");
  DeleteReceiveRefs(c.s);
  if (napi_create_reference(env, c.argv[0], 1, &c.s->on_batch) != napi_ok ||
      napi_create_reference(env, c.argv[1], 1, &c.s->on_error) != napi_ok) {
    DeleteReceiveRefs(c.s);
    return ThrowNapiFailure(env);
  }
  c.s->receiving = true;
  int err = UpdatePoll(c.s);
  if (err != 0) {
    c.s->receiving = false;
    DeleteReceiveRefs(c.s);
    UpdatePoll(c.s);
    return ThrowErrno(env, err, "epoll_ctl");
  }
  return nullptr;
}

// stopReceiving(): the kernel buffers (and, once full, drops and counts) until restarted.
// The callbacks are released, so a stopped socket does not keep its listener's closures alive.
napi_value StopReceiving(napi_env env, napi_callback_info info) {
  Call c;
  if (!GetCall(env, info, &c, nullptr)) return nullptr;
  if (c.s->closed) return nullptr;
  c.s->receiving = false;
  DeleteReceiveRefs(c.s);
  UpdatePoll(c.s);
  return nullptr;
}

}  // namespace udpkit
