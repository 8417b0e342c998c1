// The one uv_poll_t that receiving (receive.cc) and waiting to write (send.cc) share, and
// closing: what keeps a socket alive, and what happens when polling reports an error.
#include "udpkit.h"

#include <fcntl.h>
#include <unistd.h>

namespace udpkit {

static void FreePoll(uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }

static void OnPoll(uv_poll_t* handle, int status, int events);

// Polls for what is wanted (readable while receiving, writable while someone waits), holding the
// JS object strongly meanwhile so a socket that can still deliver is not collected. 0 or errno.
int UpdatePoll(Socket* s) {
  int events = (s->receiving ? UV_READABLE : 0) | (s->on_writable != nullptr ? UV_WRITABLE : 0);
  napi_env env = s->env;
  if (events == 0) {
    if (s->poll != nullptr) uv_poll_stop(s->poll);
    if (s->strong) napi_reference_unref(env, s->wrapper, nullptr);
    s->strong = false;
    return 0;
  }
  if (s->poll == nullptr) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) return ENOMEM;
    s->poll = new uv_poll_t;
    int r = uv_poll_init(loop, s->poll, s->fd);
    if (r != 0) {
      delete s->poll;  // never initialised as a handle: plain delete, no uv_close
      s->poll = nullptr;
      return -r;
    }
    s->poll->data = s;
    if (!s->refed) uv_unref(reinterpret_cast<uv_handle_t*>(s->poll));
  }
  if (s->async == nullptr) {
    // The resource is held weakly by Node, so this does not keep the socket alive.
    napi_value self = nullptr, name;
    napi_get_reference_value(env, s->wrapper, &self);
    napi_create_string_utf8(env, "udpkit:NativeUdp", NAPI_AUTO_LENGTH, &name);
    if (self == nullptr || napi_async_init(env, self, name, &s->async) != napi_ok) return ENOMEM;
  }
  int r = uv_poll_start(s->poll, events, OnPoll);
  if (r != 0) return -r;
  if (!s->strong) napi_reference_ref(env, s->wrapper, nullptr);
  s->strong = true;
  return 0;
}

// Polling cannot go on (dead fd, or POLLERR that never clears): stop, tell onError and any
// writer waiting (whose next send will throw), leave closing to JS.
static void PollFailed(Socket* s, napi_value self, int err) {
  napi_env env = s->env;
  napi_value on_error = nullptr, on_writable = nullptr;
  if (s->on_error != nullptr) napi_get_reference_value(env, s->on_error, &on_error);
  if (s->on_writable != nullptr) napi_get_reference_value(env, s->on_writable, &on_writable);
  s->receiving = false;
  DeleteReceiveRefs(s);
  if (s->on_writable != nullptr) napi_delete_reference(env, s->on_writable);
  s->on_writable = nullptr;
  UpdatePoll(s);
  napi_value error = MakeErrnoError(env, err, "poll");
  if (on_error != nullptr && error != nullptr && napi_call_function(env, self, on_error, 1, &error, nullptr) != napi_ok) {
    ReportCallbackException(env);
  }
  if (on_writable != nullptr && napi_call_function(env, self, on_writable, 0, nullptr, nullptr) != napi_ok) {
    ReportCallbackException(env);
  }
}

// libuv's uv_poll turns any POLLERR into status UV_EBADF and stops the handle. On a UDP socket
// POLLERR usually means a pending socket error (an ICMP port unreachable on a connected socket),
// not a dead fd. So a receiving socket takes the pending error (reading SO_ERROR clears it) to
// onError; one only waiting to write leaves it for its next send to throw; polling resumes.
static void OnPollError(Socket* s, napi_value self, int status) {
  if (fcntl(s->fd, F_GETFD) < 0) return PollFailed(s, self, -status);
  int err = 0;
  if (s->receiving) {
    socklen_t len = sizeof err;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  }
  s->poll_errors = err != 0 ? 0 : s->poll_errors + 1;
  if (s->poll_errors > 1000) return PollFailed(s, self, EIO);  // would spin: give up, loudly
  int r = UpdatePoll(s);  // start the handle libuv stopped
  if (r != 0) return PollFailed(s, self, r);
  if (s->on_writable != nullptr) FireWritable(s, self);
  if (err != 0 && s->receiving) ReportReceiveError(s, self, err, "recvmmsg");
  if (s->receiving && !s->closed) ReadBatches(s, self);  // libuv dropped any POLLIN with the POLLERR
}

static void OnPoll(uv_poll_t* handle, int status, int events) {
  Socket* s = static_cast<Socket*>(handle->data);
  if (s == nullptr || s->closed) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  // This local keeps the object, hence `s`, alive even if JS closes and drops it meanwhile.
  napi_value self = nullptr;
  napi_get_reference_value(env, s->wrapper, &self);
  napi_callback_scope cb_scope = nullptr;
  if (self != nullptr && s->async != nullptr && napi_open_callback_scope(env, self, s->async, &cb_scope) == napi_ok) {
    s->in_poll++;
    if (status < 0) {
      OnPollError(s, self, status);
    } else {
      s->poll_errors = 0;
      if ((events & UV_WRITABLE) != 0 && s->on_writable != nullptr) FireWritable(s, self);
      if ((events & UV_READABLE) != 0 && s->receiving && !s->closed) ReadBatches(s, self);
    }
    s->in_poll--;
    napi_close_callback_scope(env, cb_scope);  // runs process.nextTick and promise jobs
    if (s->destroy_async_later && s->in_poll == 0 && s->async != nullptr) {
      napi_async_destroy(env, s->async);
      s->async = nullptr;
      s->destroy_async_later = false;
    }
  }
  napi_close_handle_scope(env, scope);
}

// Closes once: stops polling (uv_close frees the handle later), then the fd at once, which is
// safe because uv_poll_stop has already taken it out of epoll. A finalizer during environment
// teardown leaves JS references alone (Node is deleting them itself).
void CloseSocket(Socket* s, bool from_finalizer) {
  napi_env env = s->env;
  bool touch_js = !(from_finalizer && GetGlobals(env) != nullptr && GetGlobals(env)->tearing_down);
  if (!s->closed) {
    s->closed = true;
    s->receiving = false;
    if (s->poll != nullptr) {
      uv_poll_stop(s->poll);
      s->poll->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(s->poll), FreePoll);
      s->poll = nullptr;
    }
    RefreshDrops(s);  // drops() still answers after close
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
  }
  if (!touch_js) return;
  if (s->strong) napi_reference_unref(env, s->wrapper, nullptr);
  s->strong = false;
  DeleteReceiveRefs(s);
  ReleaseReceiveMemory(s);  // the 4 MiB arena need not wait for the GC to collect this object
  if (s->on_writable != nullptr) napi_delete_reference(env, s->on_writable);
  s->on_writable = nullptr;
  if (s->async != nullptr) {
    if (s->in_poll > 0) {
      s->destroy_async_later = true;  // OnPoll's callback scope still uses it
    } else {
      napi_async_destroy(env, s->async);
      s->async = nullptr;
    }
  }
}

}  // namespace udpkit
