// Errors shaped like Node's own socket errors, argument checks, and address text <-> sockaddr.
#include "udpkit.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstdio>
#include <cstring>

namespace udpkit {

// Like Node's exceptionWithHostPort: message "bind EADDRINUSE 0.0.0.0:5000", code "EADDRINUSE",
// errno negative (libuv's convention, as node:dgram reports), syscall, address, port.
napi_value MakeErrnoError(napi_env env, int err, const char* syscall, const char* address, int port) {
  char name[64];
  uv_err_name_r(-err, name, sizeof name);  // the _r form: uv_err_name leaks on unknown codes
  char message[320];
  if (address != nullptr && port >= 0) {
    snprintf(message, sizeof message, "%s %s %s:%d", syscall, name, address, port);
  } else if (address != nullptr) {
    snprintf(message, sizeof message, "%s %s %s", syscall, name, address);
  } else {
    snprintf(message, sizeof message, "%s %s", syscall, name);
  }
  napi_value code, text, error, v;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text) != napi_ok ||
      napi_create_error(env, code, text, &error) != napi_ok) {
    return nullptr;
  }
  napi_create_int32(env, -err, &v);
  napi_set_named_property(env, error, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, error, "syscall", v);
  if (address != nullptr) {
    napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, error, "address", v);
  }
  if (port >= 0) {
    napi_create_int32(env, port, &v);
    napi_set_named_property(env, error, "port", v);
  }
  return error;
}

napi_value ThrowErrno(napi_env env, int err, const char* syscall, const char* address, int port) {
  napi_value error = MakeErrnoError(env, err, syscall, address, port);
  if (error != nullptr) napi_throw(env, error);
  return nullptr;
}

napi_value ThrowType(napi_env env, const char* message) {
  napi_throw_type_error(env, "UDPKIT_INVALID_ARGUMENT", message);
  return nullptr;
}

napi_value ThrowRange(napi_env env, const char* code, const char* message) {
  napi_throw_range_error(env, code, message);
  return nullptr;
}

// A Node-API call failed without a JS exception (out of memory and the like): say so, coded.
napi_value ThrowNapiFailure(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return nullptr;
  const napi_extended_error_info* info = nullptr;
  napi_get_last_error_info(env, &info);
  const char* why = info != nullptr && info->error_message != nullptr ? info->error_message : "unknown";
  char message[256];
  snprintf(message, sizeof message, "udpkit_native: Node-API call failed: %s", why);
  napi_throw_error(env, "UDPKIT_IO_FAILED", message);
  return nullptr;
}

// Copies a string argument. One longer than `size` can only be a bad address: it becomes "" so
// that parsing fails rather than a truncated prefix being taken for a valid one.
bool ArgString(napi_env env, napi_value v, char* out, size_t size, const char* what) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    char message[128];
    snprintf(message, sizeof message, "%s must be a string", what);
    ThrowType(env, message);
    return false;
  }
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, out, size, &len) != napi_ok) {
    ThrowNapiFailure(env);
    return false;
  }
  if (len + 1 >= size) out[0] = '\0';
  return true;
}

bool ArgInt(napi_env env, napi_value v, int min, int max, int* out, const char* what) {
  napi_valuetype t;
  double d = NAN;
  if (napi_typeof(env, v, &t) == napi_ok && t == napi_number) napi_get_value_double(env, v, &d);
  if (!(d >= min && d <= max && d == std::floor(d))) {
    char message[128];
    snprintf(message, sizeof message, "%s must be an integer from %d to %d", what, min, max);
    ThrowRange(env, "UDPKIT_INVALID_ARGUMENT", message);
    return false;
  }
  *out = static_cast<int>(d);
  return true;
}

bool ArgPort(napi_env env, napi_value v, int* port) {
  napi_valuetype t;
  double d = NAN;
  if (napi_typeof(env, v, &t) == napi_ok && t == napi_number) napi_get_value_double(env, v, &d);
  if (!(d >= 0 && d <= 65535 && d == std::floor(d))) {
    ThrowRange(env, "UDPKIT_INVALID_PORT", "port must be an integer from 0 to 65535");
    return false;
  }
  *port = static_cast<int>(d);
  return true;
}

bool ArgBool(napi_env env, napi_value v, bool* out) {
  if (napi_get_value_bool(env, v, out) != napi_ok) {
    ThrowType(env, "expected a boolean");
    return false;
  }
  return true;
}

bool IsNullish(napi_env env, napi_value v) {
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  return t == napi_undefined || t == napi_null;
}

// Returns 0 or an errno. An IPv4 text on an IPv6 socket becomes ::ffff:a.b.c.d, so the display
// address of a mapped sender can be handed back for a reply.
int ParseAddress(const char* text, int port, int socket_family, sockaddr_in6* out, socklen_t* len) {
  memset(out, 0, sizeof *out);
  sockaddr_in a4;
  bool is4 = uv_ip4_addr(text, port, &a4) == 0;
  if (socket_family == AF_INET) {
    if (!is4) return strchr(text, ':') != nullptr ? EAFNOSUPPORT : EINVAL;
    memcpy(out, &a4, sizeof a4);
    *len = sizeof a4;
    return 0;
  }
  if (is4) {
    out->sin6_family = AF_INET6;
    out->sin6_port = htons(static_cast<uint16_t>(port));
    out->sin6_addr.s6_addr[10] = 0xff;
    out->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&out->sin6_addr.s6_addr[12], &a4.sin_addr, 4);
  } else if (uv_ip6_addr(text, port, out) != 0) {
    return EINVAL;
  }
  *len = sizeof *out;
  return 0;
}

AddrKey KeyOf(const sockaddr_in6* name, socklen_t len) {
  AddrKey key;
  memset(&key, 0, sizeof key);  // whole struct, padding included: keys are compared with memcmp
  if (name->sin6_family == AF_INET && len >= sizeof(sockaddr_in)) {
    key.family = AF_INET;
    memcpy(key.bytes, &reinterpret_cast<const sockaddr_in*>(name)->sin_addr, 4);
  } else if (name->sin6_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    key.family = AF_INET6;
    key.scope = name->sin6_scope_id;
    memcpy(key.bytes, &name->sin6_addr, 16);
  }
  return key;
}

bool IsMapped(const AddrKey& key) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return key.family == AF_INET6 && memcmp(key.bytes, prefix, 12) == 0;
}

// Appends "%eth0" (or "%3" when the interface is gone), as Node shows link-local senders.
static void AppendScope(char* text, size_t size, uint32_t scope) {
  if (scope == 0) return;
  size_t n = strlen(text);
  char name[IF_NAMESIZE + 1];
  size_t name_len = sizeof name;
  if (uv_if_indextoname(scope, name, &name_len) == 0) {
    snprintf(text + n, size - n, "%%%s", name);
  } else {
    snprintf(text + n, size - n, "%%%u", scope);
  }
}

// display and reply must hold kAddrText bytes.
void FormatKey(const AddrKey& key, char* display, char* reply, bool* mapped) {
  *mapped = IsMapped(key);
  display[0] = '\0';
  if (key.family == AF_INET || *mapped) {
    inet_ntop(AF_INET, key.bytes + (*mapped ? 12 : 0), display, kAddrText);
  } else if (key.family == AF_INET6) {
    inet_ntop(AF_INET6, key.bytes, display, kAddrText);
    AppendScope(display, kAddrText, key.scope);
  }
  snprintf(reply, kAddrText, "%s%s", *mapped ? "::ffff:" : "", display);
}

// { address, port, family } of a socket's own address, as the kernel reports it (not unmapped).
napi_value FormatSockaddr(napi_env env, const sockaddr_in6* name) {
  char text[kAddrText] = "";
  int port = 0;
  bool v6 = name->sin6_family == AF_INET6;
  if (v6) {
    inet_ntop(AF_INET6, &name->sin6_addr, text, sizeof text);
    AppendScope(text, sizeof text, name->sin6_scope_id);
    port = ntohs(name->sin6_port);
  } else {
    const sockaddr_in* a4 = reinterpret_cast<const sockaddr_in*>(name);
    inet_ntop(AF_INET, &a4->sin_addr, text, sizeof text);
    port = ntohs(a4->sin_port);
  }
  napi_value obj, v;
  if (napi_create_object(env, &obj) != napi_ok) return ThrowNapiFailure(env);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "address", v);
  napi_create_int32(env, port, &v);
  napi_set_named_property(env, obj, "port", v);
  napi_create_string_utf8(env, v6 ? "IPv6" : "IPv4", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "family", v);
  return obj;
}

Globals* GetGlobals(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<Globals*>(data);
}

// A JS callback threw while called from the event loop (no JS caller to rethrow to): hand the
// error to process 'uncaughtException', as Node does for its own handles' callbacks.
void ReportCallbackException(napi_env env) {
  bool pending = false;
  napi_value error;
  if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) return;
  if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
}

}  // namespace udpkit
