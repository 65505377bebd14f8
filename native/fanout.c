/*
 * The live fan-out's socket writes: a Node-API function, built by scripts/setup.sh into build/native/fanout.node and
 * used by serve/live/hub.ts (through serve/live/direct.ts). A fan-out pass writes the same bytes to many WebSocket
 * clients; written one by one through node:net, each write costs a stream, a write request and a callback on top of
 * the system call. Here one call makes the system calls for a whole slice of the pass:
 *
 *   sendEach(fds: Int32Array, bytes: Uint8Array, out: Int32Array): undefined
 *     for each i, send(fds[i], bytes) without blocking; out[i] = the bytes sent (all, some, or 0), or -errno when
 *     the call failed (EAGAIN: the socket's buffer is full)
 *
 * The caller only passes sockets that have nothing waiting in Node to be written (so these bytes go out in order)
 * and writes whatever was not sent the ordinary way. MSG_NOSIGNAL: a closed peer gives EPIPE, not a signal.
 */
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <sys/socket.h>

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

static napi_value send_each(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  void *fds, *bytes, *out;
  size_t count, length, outCount;
  if (argc < 3 || !typed(env, argv[0], napi_int32_array, &fds, &count) ||
      !typed(env, argv[1], napi_uint8_array, &bytes, &length) ||
      !typed(env, argv[2], napi_int32_array, &out, &outCount) || outCount < count) {
    napi_throw_type_error(env, NULL, "sendEach(fds: Int32Array, bytes: Uint8Array, out: Int32Array)");
    return NULL;
  }
  for (size_t i = 0; i < count; i++) {
    ssize_t n = send(((int32_t *)fds)[i], bytes, length, MSG_DONTWAIT | MSG_NOSIGNAL);
    ((int32_t *)out)[i] = n < 0 ? -errno : (int32_t)n;
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "sendEach", NAPI_AUTO_LENGTH, send_each, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "sendEach", fn) != napi_ok) return NULL;
  return exports;
}
