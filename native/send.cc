// Sending: one datagram (send) or up to 64 per sendmmsg (sendBatch: an array of buffers;
// sendSpans: slices of one buffer, so a sender of many small datagrams makes no object per
// datagram), to the connected peer or to one address. "The kernel is full" (EAGAIN, or ENOBUFS as libuv also retries it) is not an
// error: the call reports nothing taken and JS waits with waitWritable(). Everything else throws
// coded, ECONNREFUSED included (a connected socket's peer port was closed), so JS can count it.
#include "udpkit.h"

#include <netinet/udp.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103  // Linux 4.18+: one send of several datagrams of one size (GSO)
#endif

namespace udpkit {

namespace {

bool Retryable(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS; }

// Room for one UDP_SEGMENT control message per message of a batch.
struct SegmentControl {
  alignas(cmsghdr) char bytes[CMSG_SPACE(sizeof(uint16_t))];
};

// Makes message `h` a run of same-size datagrams of `size` bytes each (the last may be
// shorter): the kernel segments it (UDP GSO).
void MarkRun(msghdr& h, SegmentControl& control, size_t size) {
  h.msg_control = control.bytes;
  h.msg_controllen = sizeof control.bytes;
  cmsghdr* cm = CMSG_FIRSTHDR(&h);
  cm->cmsg_level = SOL_UDP;
  cm->cmsg_type = UDP_SEGMENT;
  cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  const uint16_t segment = static_cast<uint16_t>(size);
  memcpy(CMSG_DATA(cm), &segment, sizeof segment);
}

constexpr int kRetryPlain = -1;
constexpr int kFailed = -2;

// One sendmmsg of `m` messages (message i holding counts[i] datagrams). Returns how many
// datagrams the kernel took (0 when it is full); kRetryPlain when the first message was a run
// and the kernel refused it (send the batch again without segmenting, whose error is the one to
// report; EIO turns segmenting off on this socket for good); kFailed with the errno in *err.
int SendMessages(Socket* s, mmsghdr* msgs, int m, const int* counts, int* err) {
  int r = 0;
  if (m > 0) {
    do {
      r = sendmmsg(s->fd, msgs, static_cast<unsigned>(m), MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
  }
  if (r < 0) {
    *err = errno;
    if (Retryable(*err)) return 0;
    if (counts[0] > 1) {
      if (*err == EIO) s->no_gso = true;
      return kRetryPlain;
    }
    return kFailed;
  }
  int taken = 0;
  for (int i = 0; i < r; i++) taken += counts[i];
  return taken;
}

// How many datagrams after the first of `sizes` (contiguous in memory when `adjacent` says so)
// may join its run: same size, then at most one shorter to end it, 64 and 60000 bytes in all.
template <typename SizeAt, typename Adjacent>
int RunLength(int n, SizeAt size_at, Adjacent adjacent) {
  const size_t size = size_at(0);
  if (size == 0) return 1;
  int k = 1;
  size_t bytes = size;
  while (k < n && k < 64 && size_at(k) > 0 && size_at(k) <= size && bytes + size_at(k) <= 60000 && adjacent(k)) {
    bytes += size_at(k);
    if (size_at(k++) < size) break;
  }
  return k;
}

// Any ArrayBufferView (Buffer, Uint8Array...): Node-API's "buffer" accepts them all.
bool BufferArg(napi_env env, napi_value v, void** data, size_t* len) {
  bool ok = false;
  if (napi_is_buffer(env, v, &ok) != napi_ok || !ok || napi_get_buffer_info(env, v, data, len) != napi_ok) {
    ThrowType(env, "datagrams must be Buffers or Uint8Arrays");
    return false;
  }
  return true;
}

// The optional (address, port) pair at argv[at]: absent means "the connected peer" (len 0).
struct Target {
  sockaddr_in6 addr;
  socklen_t len = 0;
  char text[kAddrText] = "";
  int port = -1;
};

bool TargetArgs(napi_env env, const Call& c, size_t at, const char* syscall, Target* t) {
  if (IsNullish(env, c.argv[at])) return true;
  if (!ArgString(env, c.argv[at], t->text, sizeof t->text, "address") || !ArgPort(env, c.argv[at + 1], &t->port)) return false;
  int err = ParseAddress(t->text, t->port, c.s->family, &t->addr, &t->len);
  if (err != 0) {
    ThrowErrno(env, err, syscall, t->text, t->port);
    return false;
  }
  return true;
}

napi_value Boolean(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

}  // namespace

// send(buffer, address?, port?): true when the kernel took it, false when it was full.
napi_value Send(napi_env env, napi_callback_info info) {
  Call c;
  if (!GetCall(env, info, &c, "send")) return nullptr;
  void* data = nullptr;
  size_t len = 0;
  Target t;
  if (!BufferArg(env, c.argv[0], &data, &len) || !TargetArgs(env, c, 1, "send", &t)) return nullptr;
  const sockaddr* to = t.len > 0 ? reinterpret_cast<const sockaddr*>(&t.addr) : nullptr;
  ssize_t r;
  do {
    r = sendto(c.s->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, to, t.len);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    int err = errno;
    if (Retryable(err)) return Boolean(env, false);
    return ThrowErrno(env, err, "send", t.len > 0 ? t.text : nullptr, t.port);
  }
  return Boolean(env, true);
}

// sendBatch(buffers, start, address?, port?, gso?): one sendmmsg of buffers[start .. start+64).
// With `gso`, each run of datagrams of one size (the last may be shorter), up to 64 and 60000
// bytes, goes as one message with UDP_SEGMENT: the kernel walks its stack once for the run and
// splits it into the same datagrams just before they leave (or, on loopback, just before they
// are queued to the receiving socket), which made a loopback send of 64-byte datagrams 2.5-3x
// cheaper. Receivers see the same datagrams; a capture on the sending host (tcpdump -i lo)
// shows a run as one large packet. When the kernel refuses a run (EMSGSIZE or EINVAL: its
// datagrams are over the path's MTU, to be fragmented one by one), the batch is sent again
// without segmenting; EIO (a device without checksum offload) turns segmenting off for good on
// this socket. Returns how many datagrams the kernel took.
napi_value SendBatch(napi_env env, napi_callback_info info) {
  Call c;
  if (!GetCall(env, info, &c, "sendmmsg")) return nullptr;
  bool is_array = false;
  napi_is_array(env, c.argv[0], &is_array);
  if (!is_array) return ThrowType(env, "buffers must be an array");
  uint32_t total = 0;
  int start = 0;
  Target t;
  napi_get_array_length(env, c.argv[0], &total);
  if (!ArgInt(env, c.argv[1], 0, INT_MAX, &start, "start") || !TargetArgs(env, c, 2, "sendmmsg", &t)) return nullptr;
  bool gso = false;
  if (!IsNullish(env, c.argv[4]) && !ArgBool(env, c.argv[4], &gso)) return nullptr;
  int n = static_cast<uint32_t>(start) >= total ? 0 : static_cast<int>(std::min<uint32_t>(kBatch, total - start));
  // Fetch every element first and read the pointers after: fetching can run JS (a getter could
  // detach an earlier buffer), reading a pointer cannot, and nothing runs between it and sendmmsg.
  napi_value items[kBatch];
  for (int i = 0; i < n; i++) {
    if (napi_get_element(env, c.argv[0], static_cast<uint32_t>(start + i), &items[i]) != napi_ok) return ThrowNapiFailure(env);
  }
  iovec iov[kBatch];
  for (int i = 0; i < n; i++) {
    if (!BufferArg(env, items[i], &iov[i].iov_base, &iov[i].iov_len)) return nullptr;
  }
  mmsghdr msgs[kBatch];
  int counts[kBatch];  // datagrams in each message
  SegmentControl control[kBatch];
  for (bool segmented = gso && !c.s->no_gso;; segmented = false) {
    memset(msgs, 0, sizeof msgs);
    int m = 0;
    for (int i = 0; i < n; m++) {
      const int k = segmented ? RunLength(n - i, [&](int j) { return iov[i + j].iov_len; }, [](int) { return true; }) : 1;
      msghdr& h = msgs[m].msg_hdr;
      h.msg_iov = &iov[i];
      h.msg_iovlen = static_cast<size_t>(k);
      if (t.len > 0) {
        h.msg_name = &t.addr;
        h.msg_namelen = t.len;
      }
      if (k > 1) MarkRun(h, control[m], iov[i].iov_len);
      counts[m] = k;
      i += k;
    }
    int err = 0;
    const int taken = SendMessages(c.s, msgs, m, counts, &err);
    if (taken == kRetryPlain) continue;
    if (taken == kFailed) return ThrowErrno(env, err, "sendmmsg", t.len > 0 ? t.text : nullptr, t.port);
    napi_value v;
    napi_create_int32(env, taken, &v);
    return v;
  }
}

// A Uint32Array argument's elements.
static bool Uint32sArg(napi_env env, napi_value v, const uint32_t** data, size_t* len, const char* what) {
  bool ok = false;
  napi_typedarray_type type;
  void* raw = nullptr;
  if (napi_is_typedarray(env, v, &ok) != napi_ok || !ok || napi_get_typedarray_info(env, v, &type, len, &raw, nullptr, nullptr) != napi_ok ||
      type != napi_uint32_array) {
    ThrowType(env, what);
    return false;
  }
  *data = static_cast<const uint32_t*>(raw);
  return true;
}

// sendSpans(bytes, starts, ends, from, to, gso?): one sendmmsg to the connected peer of the
// datagrams bytes[starts[i], ends[i]) for i in [from, min(to, from + 64)). Same result as
// sendBatch; with `gso`, runs of same-size datagrams that follow each other in `bytes` go as
// one message each (one iovec) with UDP_SEGMENT, falling back as sendBatch does.
napi_value SendSpans(napi_env env, napi_callback_info info) {
  Call c;
  if (!GetCall(env, info, &c, "sendmmsg")) return nullptr;
  void* bytes = nullptr;
  size_t size = 0;
  const uint32_t *starts = nullptr, *ends = nullptr;
  size_t n_starts = 0, n_ends = 0;
  int from = 0, to = 0;
  bool gso = false;
  if (!BufferArg(env, c.argv[0], &bytes, &size) ||
      !Uint32sArg(env, c.argv[1], &starts, &n_starts, "starts must be a Uint32Array") ||
      !Uint32sArg(env, c.argv[2], &ends, &n_ends, "ends must be a Uint32Array") ||
      !ArgInt(env, c.argv[3], 0, INT_MAX, &from, "from") || !ArgInt(env, c.argv[4], 0, INT_MAX, &to, "to") ||
      (!IsNullish(env, c.argv[5]) && !ArgBool(env, c.argv[5], &gso))) {
    return nullptr;
  }
  if (static_cast<size_t>(to) > std::min(n_starts, n_ends)) return ThrowRange(env, "UDPKIT_INVALID_ARGUMENT", "to is past the end of starts or ends");
  int n = from >= to ? 0 : std::min(kBatch, to - from);
  const uint32_t* s0 = starts + from;
  const uint32_t* e0 = ends + from;
  for (int i = 0; i < n; i++) {
    if (s0[i] > e0[i] || e0[i] > size) return ThrowRange(env, "UDPKIT_INVALID_ARGUMENT", "a span is outside the buffer");
  }
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  int counts[kBatch];
  SegmentControl control[kBatch];
  for (bool segmented = gso && !c.s->no_gso;; segmented = false) {
    memset(msgs, 0, sizeof msgs);
    int m = 0;
    for (int i = 0; i < n; m++) {
      const int k = segmented ? RunLength(n - i, [&](int j) { return static_cast<size_t>(e0[i + j] - s0[i + j]); }, [&](int j) { return s0[i + j] == e0[i + j - 1]; }) : 1;
      iov[m].iov_base = static_cast<char*>(bytes) + s0[i];
      iov[m].iov_len = e0[i + k - 1] - s0[i];
      msgs[m].msg_hdr.msg_iov = &iov[m];
      msgs[m].msg_hdr.msg_iovlen = 1;
      if (k > 1) MarkRun(msgs[m].msg_hdr, control[m], e0[i] - s0[i]);
      counts[m] = k;
      i += k;
    }
    int err = 0;
    const int taken = SendMessages(c.s, msgs, m, counts, &err);
    if (taken == kRetryPlain) continue;
    if (taken == kFailed) return ThrowErrno(env, err, "sendmmsg");
    napi_value v;
    napi_create_int32(env, taken, &v);
    return v;
  }
}

// waitWritable(callback): calls it once, from the event loop, when the socket can take more.
napi_value WaitWritable(napi_env env, napi_callback_info info) {
  Call c;
  if (!GetCall(env, info, &c, "poll")) return nullptr;
  napi_valuetype t;
  napi_typeof(env, c.argv[0], &t);
  if (t != napi_function) return ThrowType(env, "callback must be a function");
  if (c.s->on_writable != nullptr) napi_delete_reference(env, c.s->on_writable);
  c.s->on_writable = nullptr;
  if (napi_create_reference(env, c.argv[0], 1, &c.s->on_writable) != napi_ok) return ThrowNapiFailure(env);
  int err = UpdatePoll(c.s);
  if (err != 0) {
    napi_delete_reference(env, c.s->on_writable);
    c.s->on_writable = nullptr;
    UpdatePoll(c.s);
    return ThrowErrno(env, err, "epoll_ctl");
  }
  return nullptr;
}

void FireWritable(Socket* s, napi_value self) {
  napi_env env = s->env;
  napi_value cb = nullptr;
  napi_get_reference_value(env, s->on_writable, &cb);
  napi_delete_reference(env, s->on_writable);
  s->on_writable = nullptr;
  UpdatePoll(s);  // one-shot: stop watching for writable before JS may ask again
  if (cb != nullptr && napi_call_function(env, self, cb, 0, nullptr, nullptr) != napi_ok) ReportCallbackException(env);
}

}  // namespace udpkit
