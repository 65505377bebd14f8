/*
 * weft's gzip for tiles: a Node-API binding to libdeflate (Debian's libdeflate-dev), built by scripts/setup.sh into
 * build/native/deflate.node and used by pipeline/tiler/gzip.ts. libdeflate compresses a whole buffer in one call, with
 * no stream state to set up or reset, about 2.5x faster than zlib at the same level on vector tiles, and its output
 * depends only on the input, the level and the library's version.
 *
 *   gzip(input: Uint8Array, level: 1..12): Buffer   a complete gzip member (header, deflate, crc32, size)
 *   version: string                                libdeflate's version
 *
 * Each thread that loads it (the tiler's workers) gets its own compressors and scratch buffer (instance data).
 */
#include <libdeflate.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVEL 12

typedef struct {
  struct libdeflate_compressor *compressors[MAX_LEVEL + 1];
  unsigned char *scratch;
  size_t capacity;
} state_t;

static void free_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  state_t *s = data;
  for (int i = 0; i <= MAX_LEVEL; i++)
    if (s->compressors[i]) libdeflate_free_compressor(s->compressors[i]);
  free(s->scratch);
  free(s);
}

static napi_value fail(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static napi_value gzip(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2)
    return fail(env, "ERR_INVALID_ARG", "gzip(input, level) takes two arguments");
  bool typed = false;
  napi_is_typedarray(env, argv[0], &typed);
  if (!typed) return fail(env, "ERR_INVALID_ARG", "gzip: input must be a Uint8Array");
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array)
    return fail(env, "ERR_INVALID_ARG", "gzip: input must be a Uint8Array");
  int32_t level;
  if (napi_get_value_int32(env, argv[1], &level) != napi_ok || level < 1 || level > MAX_LEVEL)
    return fail(env, "ERR_INVALID_ARG", "gzip: level must be an integer from 1 to 12");

  state_t *s;
  if (napi_get_instance_data(env, (void **)&s) != napi_ok || !s) return fail(env, NULL, "gzip: not initialised");
  struct libdeflate_compressor *c = s->compressors[level];
  if (!c) {
    c = s->compressors[level] = libdeflate_alloc_compressor(level);
    if (!c) return fail(env, "ERR_OUT_OF_MEMORY", "gzip: out of memory");
  }
  size_t bound = libdeflate_gzip_compress_bound(c, length);
  if (bound > s->capacity) {
    unsigned char *bigger = realloc(s->scratch, bound);
    if (!bigger) return fail(env, "ERR_OUT_OF_MEMORY", "gzip: out of memory");
    s->scratch = bigger;
    s->capacity = bound;
  }
  size_t written = libdeflate_gzip_compress(c, length ? data : "", length, s->scratch, s->capacity);
  if (!written) return fail(env, NULL, "gzip: libdeflate did not fit its own bound");
  napi_value out;
  if (napi_create_buffer_copy(env, written, s->scratch, NULL, &out) != napi_ok)
    return fail(env, "ERR_OUT_OF_MEMORY", "gzip: out of memory");
  return out;
}

NAPI_MODULE_INIT() {
  state_t *s = calloc(1, sizeof(state_t));
  if (!s || napi_set_instance_data(env, s, free_state, NULL) != napi_ok) {
    free(s);
    return fail(env, "ERR_OUT_OF_MEMORY", "deflate: out of memory");
  }
  napi_value fn, version;
  napi_create_function(env, "gzip", NAPI_AUTO_LENGTH, gzip, NULL, &fn);
  napi_set_named_property(env, exports, "gzip", fn);
  napi_create_string_utf8(env, LIBDEFLATE_VERSION_STRING, NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, exports, "version", version);
  return exports;
}
