// The NativeUdp class: construction, finalization, options, bind/connect, and module init.
#include "udpkit.h"

#include <linux/sock_diag.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace udpkit {

// Unwraps `this`; with `syscall`, also refuses a closed socket (EBADF, as the fd is gone).
bool GetCall(napi_env env, napi_callback_info info, Call* c, const char* syscall) {
  if (napi_get_cb_info(env, info, &c->argc, c->argv, &c->self, nullptr) != napi_ok) {
    ThrowNapiFailure(env);
    return false;
  }
  void* data = nullptr;
  if (napi_unwrap(env, c->self, &data) != napi_ok || data == nullptr) {
    ThrowType(env, "not a NativeUdp");
    return false;
  }
  c->s = static_cast<Socket*>(data);
  if (syscall != nullptr && c->s->closed) {
    ThrowErrno(env, EBADF, syscall);
    return false;
  }
  return true;
}

static void Finalize(napi_env env, void* data, void*) {
  Socket* s = static_cast<Socket*>(data);
  CloseSocket(s, true);
  Globals* g = GetGlobals(env);
  if (g == nullptr || !g->tearing_down) {
    napi_delete_reference(env, s->wrapper);  // CloseSocket released everything else
  }
  delete s;
}

// new NativeUdp(family: 4 | 6, ipv6Only: boolean)
static napi_value New(napi_env env, napi_callback_info info) {
  napi_value target = nullptr;
  napi_get_new_target(env, info, &target);
  if (target == nullptr) return ThrowType(env, "NativeUdp must be called with new");
  size_t argc = 2;
  napi_value argv[2], self;
  napi_get_cb_info(env, info, &argc, argv, &self, nullptr);
  int family = 0;
  bool v6only = false;
  if (!ArgInt(env, argv[0], 4, 6, &family, "family")) return nullptr;
  if (family == 5) return ThrowRange(env, "UDPKIT_INVALID_ARGUMENT", "family must be 4 or 6");
  if (argc > 1 && !IsNullish(env, argv[1]) && !ArgBool(env, argv[1], &v6only)) return nullptr;
  int af = family == 6 ? AF_INET6 : AF_INET;
  int fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, errno, "socket");
  int one = 1, flag = v6only ? 1 : 0;
  // Explicit either way: the default follows the net.ipv6.bindv6only sysctl.
  if (af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &flag, sizeof flag) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "setsockopt");
  }
  Socket* s = new Socket();
  s->env = env;
  s->fd = fd;
  s->family = af;
  // The drop counter is read when asked (SO_MEMINFO, Linux 4.12+). Only where that fails is it
  // stamped on every datagram received (SO_RXQ_OVFL): a control message each, 3-4% of a
  // listener's perf samples here (__sock_recv_cmsgs, put_cmsg). Best effort either way.
  if (!RefreshDrops(s)) setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  if (napi_wrap(env, self, s, Finalize, nullptr, &s->wrapper) != napi_ok) {
    close(fd);
    delete s;
    return ThrowNapiFailure(env);
  }
  return self;
}

static napi_value Close(napi_env env, napi_callback_info info) {
  Call c;
  if (!GetCall(env, info, &c, nullptr)) return nullptr;
  CloseSocket(c.s, false);
  return nullptr;
}

// bind(address, port, reuseAddr) and connect(address, port): same parsing, same errors.
static napi_value BindOrConnect(napi_env env, napi_callback_info info, bool is_bind) {
  const char* syscall = is_bind ? "bind" : "connect";
  Call c;
  if (!GetCall(env, info, &c, syscall)) return nullptr;
  char address[kAddrText];
  int port = 0;
  bool reuse = false;
  if (!ArgString(env, c.argv[0], address, sizeof address, "address") || !ArgPort(env, c.argv[1], &port)) return nullptr;
  if (is_bind && !IsNullish(env, c.argv[2]) && !ArgBool(env, c.argv[2], &reuse)) return nullptr;
  sockaddr_in6 sa;
  socklen_t len = 0;
  int err = ParseAddress(address, port, c.s->family, &sa, &len);
  if (err != 0) return ThrowErrno(env, err, syscall, address, port);
  int one = 1;
  if (reuse && setsockopt(c.s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    return ThrowErrno(env, errno, "setsockopt");
  }
  const sockaddr* addr = reinterpret_cast<const sockaddr*>(&sa);
  int r = is_bind ? bind(c.s->fd, addr, len) : connect(c.s->fd, addr, len);
  if (r != 0) return ThrowErrno(env, errno, syscall, address, port);
  return nullptr;
}

static napi_value Bind(napi_env env, napi_callback_info info) { return BindOrConnect(env, info, true); }
static napi_value Connect(napi_env env, napi_callback_info info) { return BindOrConnect(env, info, false); }

static napi_value LocalAddress(napi_env env, napi_callback_info info) {
  Call c;
  if (!GetCall(env, info, &c, "getsockname")) return nullptr;
  sockaddr_in6 sa;
  memset(&sa, 0, sizeof sa);
  socklen_t len = sizeof sa;
  if (getsockname(c.s->fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return ThrowErrno(env, errno, "getsockname");
  return FormatSockaddr(env, &sa);
}

// setRecvBufferSize / setSendBufferSize / setBroadcast: one int socket option each.
static napi_value SetIntOption(napi_env env, napi_callback_info info, int option) {
  Call c;
  if (!GetCall(env, info, &c, "setsockopt")) return nullptr;
  int value = 0;
  if (option == SO_BROADCAST) {
    bool on = false;
    if (!ArgBool(env, c.argv[0], &on)) return nullptr;
    value = on ? 1 : 0;
  } else if (!ArgInt(env, c.argv[0], 1, INT_MAX / 2, &value, "size")) {
    return nullptr;
  }
  if (setsockopt(c.s->fd, SOL_SOCKET, option, &value, sizeof value) != 0) return ThrowErrno(env, errno, "setsockopt");
  return nullptr;
}

static napi_value GetIntOption(napi_env env, napi_callback_info info, int option) {
  Call c;
  if (!GetCall(env, info, &c, "getsockopt")) return nullptr;
  int value = 0;
  socklen_t len = sizeof value;
  if (getsockopt(c.s->fd, SOL_SOCKET, option, &value, &len) != 0) return ThrowErrno(env, errno, "getsockopt");
  napi_value v;
  napi_create_int32(env, value, &v);
  return v;
}

static napi_value SetRecvBufferSize(napi_env env, napi_callback_info i) { return SetIntOption(env, i, SO_RCVBUF); }
static napi_value SetSendBufferSize(napi_env env, napi_callback_info i) { return SetIntOption(env, i, SO_SNDBUF); }
static napi_value SetBroadcast(napi_env env, napi_callback_info i) { return SetIntOption(env, i, SO_BROADCAST); }
static napi_value GetRecvBufferSize(napi_env env, napi_callback_info i) { return GetIntOption(env, i, SO_RCVBUF); }
static napi_value GetSendBufferSize(napi_env env, napi_callback_info i) { return GetIntOption(env, i, SO_SNDBUF); }

bool RefreshDrops(Socket* s) {
#if defined(SO_MEMINFO)
  uint32_t mem[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof mem;
  if (s->fd < 0 || getsockopt(s->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 || len <= SK_MEMINFO_DROPS * 4) return false;
  if (mem[SK_MEMINFO_DROPS] > s->seen_drops) s->seen_drops = mem[SK_MEMINFO_DROPS];
  return true;
#else
  (void)s;
  return false;
#endif
}

// The kernel's drop counter for this socket, read now (SO_MEMINFO); after close, as last read
// (close reads it first). Where SO_MEMINFO is missing, SO_RXQ_OVFL's stamps (on datagrams queued
// after the drops: a paused or finished listener may under-report there).
static napi_value Drops(napi_env env, napi_callback_info info) {
  Call c;
  if (!GetCall(env, info, &c, nullptr)) return nullptr;
  if (!c.s->closed) RefreshDrops(c.s);
  napi_value v;
  napi_create_uint32(env, c.s->seen_drops, &v);
  return v;
}

static napi_value SetRef(napi_env env, napi_callback_info info, bool on) {
  Call c;
  if (!GetCall(env, info, &c, nullptr)) return nullptr;
  c.s->refed = on;
  if (c.s->poll != nullptr) {
    uv_handle_t* h = reinterpret_cast<uv_handle_t*>(c.s->poll);
    on ? uv_ref(h) : uv_unref(h);
  }
  return c.self;
}

static napi_value Ref(napi_env env, napi_callback_info i) { return SetRef(env, i, true); }
static napi_value Unref(napi_env env, napi_callback_info i) { return SetRef(env, i, false); }

static napi_value Fd(napi_env env, napi_callback_info info) {
  Call c;
  if (!GetCall(env, info, &c, nullptr)) return nullptr;
  napi_value v;
  napi_create_int32(env, c.s->fd, &v);
  return v;
}

static void OnTeardown(void* data) { static_cast<Globals*>(data)->tearing_down = true; }

static void FreeGlobals(napi_env env, void* data, void*) {
  Globals* g = static_cast<Globals*>(data);
  napi_remove_env_cleanup_hook(env, OnTeardown, g);
  delete g;  // its reference goes with the environment
}

static napi_value Init(napi_env env, napi_value exports) {
  Globals* g = new Globals();
  napi_value families, v4, v6;
  if (napi_create_array_with_length(env, 2, &families) != napi_ok ||
      napi_create_string_utf8(env, "IPv4", NAPI_AUTO_LENGTH, &v4) != napi_ok ||
      napi_create_string_utf8(env, "IPv6", NAPI_AUTO_LENGTH, &v6) != napi_ok ||
      napi_set_element(env, families, 0, v4) != napi_ok || napi_set_element(env, families, 1, v6) != napi_ok ||
      napi_create_reference(env, families, 1, &g->families) != napi_ok) {
    delete g;
    return ThrowNapiFailure(env);
  }
  napi_set_instance_data(env, g, FreeGlobals, nullptr);
  // Registered after Node-API's own teardown hook, so it runs first (hooks run in reverse).
  napi_add_env_cleanup_hook(env, OnTeardown, g);

#define METHOD(name, fn) {name, nullptr, fn, nullptr, nullptr, nullptr, napi_default, nullptr}
  napi_property_descriptor props[] = {
      METHOD("bind", Bind),
      METHOD("connect", Connect),
      METHOD("localAddress", LocalAddress),
      METHOD("setRecvBufferSize", SetRecvBufferSize),
      METHOD("getRecvBufferSize", GetRecvBufferSize),
      METHOD("setSendBufferSize", SetSendBufferSize),
      METHOD("getSendBufferSize", GetSendBufferSize),
      METHOD("setBroadcast", SetBroadcast),
      METHOD("drops", Drops),
      METHOD("startReceiving", StartReceiving),
      METHOD("stopReceiving", StopReceiving),
      METHOD("send", Send),
      METHOD("sendBatch", SendBatch),
      METHOD("sendSpans", SendSpans),
      METHOD("waitWritable", WaitWritable),
      METHOD("ref", Ref),
      METHOD("unref", Unref),
      METHOD("close", Close),
      {"fd", nullptr, nullptr, Fd, nullptr, nullptr, napi_default, nullptr},
  };
#undef METHOD
  napi_value cls, version;
  if (napi_define_class(env, "NativeUdp", NAPI_AUTO_LENGTH, New, nullptr, sizeof props / sizeof props[0], props, &cls) != napi_ok) {
    return ThrowNapiFailure(env);
  }
  napi_value format_lines;
  if (napi_create_function(env, "formatLines", NAPI_AUTO_LENGTH, FormatLines, nullptr, &format_lines) != napi_ok) {
    return ThrowNapiFailure(env);
  }
  napi_value encode_capture;
  if (napi_create_function(env, "encodeCapture", NAPI_AUTO_LENGTH, EncodeCapture, nullptr, &encode_capture) != napi_ok) {
    return ThrowNapiFailure(env);
  }
  napi_value grow_pipe;
  if (napi_create_function(env, "growPipe", NAPI_AUTO_LENGTH, GrowPipe, nullptr, &grow_pipe) != napi_ok) {
    return ThrowNapiFailure(env);
  }
  napi_create_uint32(env, kAbiVersion, &version);
  napi_set_named_property(env, exports, "NativeUdp", cls);
  napi_set_named_property(env, exports, "formatLines", format_lines);
  napi_set_named_property(env, exports, "encodeCapture", encode_capture);
  napi_set_named_property(env, exports, "growPipe", grow_pipe);
  napi_set_named_property(env, exports, "abiVersion", version);
  return exports;
}

}  // namespace udpkit

NAPI_MODULE(NODE_GYP_MODULE_NAME, udpkit::Init)
