/*
 * weft's tile encoder: a Node-API function, built by scripts/setup.sh into build/native/tile.node and used by
 * pipeline/tiler/native-tiles.ts. It reads one tile's records (pipeline/tiler/records.ts, RecordWriter) and writes
 * the MVT 2.1 tile byte for byte as the JavaScript encoder does (pipeline/tiler/assemble.ts: RecordTable.read, then
 * encodeLayers(groupLayers(…))), with no JavaScript object per record:
 *
 *   - layers in name order as JavaScript compares strings; records whose layer names are equal belong to one layer
 *   - features of a layer by (sort key, seq), records with equal ones in record order (a stable sort)
 *   - keys and values deduplicated per layer by their bytes (the key's UTF-8, the Value message), in order of first
 *     appearance; tags packed; the feature id when it is ≥ 0; geometry copied; version 2 and the extent
 *
 *   encodeTile(buf: Uint8Array, start, count, extent, out: Uint8Array, info: Float64Array): number
 *     n ≥ 0   the tile is out[0 .. n), and info[0] is where the records end
 *     -1      this tile is left to JavaScript (see below)
 *     -2      out is too small: info[1] is the size needed (call again with a bigger one)
 *   encodeTileAt(buf, starts: Uint32Array, count, extent, out, info): number
 *     the same for records that lie apart, record i at buf[starts[i]] (RecordTable.readAt's order)
 *
 * A tile is left to JavaScript when it holds something this would not encode identically, or that is not as
 * RecordWriter writes it: a layer name that is not valid UTF-8 or that holds a character from U+E000 to U+FFFF
 * (JavaScript orders strings by UTF-16 code units, which put those after the supplementary planes; and a leading
 * BOM would be dropped by its decoder), a NaN sort key, a sequence number above 2^53, an id ≥ 0 that is not an
 * integer below 2^64, a geometry type above 127, a record or property running past its end.
 *
 * Each thread that loads it (the tiler's workers) keeps its own buffers from call to call (instance data).
 */
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TWO_53 9007199254740992.0
#define TWO_64 18446744073709551616.0

/* One record of the tile, as RecordTable.read reads it. */
typedef struct {
  double sort_key, seq, id;
  uint32_t geom, geom_len, props, props_end, layer;
  uint8_t type;
} rec_t;

/* A feature of a layer, in sorting form: ties keep record order. */
typedef struct {
  double sort_key, seq;
  uint32_t index;
} item_t;

/* Distinct byte strings of the records' buffer: an open-addressing hash table of FNV-1a hashes, hits confirmed byte
   by byte, entry i being buf[starts[i] .. starts[i] + lens[i]). A generation stamp per slot empties it without
   clearing. */
typedef struct {
  uint32_t *slots, *stamps; /* per slot: the entry, valid when stamps[slot] is the generation */
  uint32_t mask, generation;
  uint32_t *starts, *lens, *hashes;
  uint32_t count, cap;
} table_t;

typedef struct {
  uint8_t *data;
  size_t len, cap;
} bytes_t;

typedef struct {
  rec_t *recs;
  item_t *items;
  size_t rec_cap;
  uint32_t *layer_at; /* per layer (entry of `layers`): where its items start, then the next free place */
  uint32_t *layer_order;
  size_t layer_cap;
  uint32_t *tags;
  size_t tag_cap;
  table_t layers, keys, values;
  bytes_t layer, tile;
} state_t;

/* ---- buffers ---------------------------------------------------------------------------------------------------- */

static int reserve(bytes_t *b, size_t n) {
  if (b->len + n <= b->cap) return 1;
  size_t cap = b->cap ? b->cap * 2 : 1 << 16;
  while (cap < b->len + n) cap *= 2;
  uint8_t *d = realloc(b->data, cap);
  if (!d) return 0;
  b->data = d;
  b->cap = cap;
  return 1;
}

static size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Writes a varint at p (room ensured); returns the position after it. */
static uint8_t *varint_at(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

static int put_varint(bytes_t *b, uint64_t v) {
  if (!reserve(b, 10)) return 0;
  b->len = (size_t)(varint_at(b->data + b->len, v) - b->data);
  return 1;
}

static int put(bytes_t *b, const uint8_t *src, size_t n) {
  if (!reserve(b, n)) return 0;
  if (n) memcpy(b->data + b->len, src, n);
  b->len += n;
  return 1;
}

/* ---- the string tables ------------------------------------------------------------------------------------------ */

static void table_free(table_t *t) {
  free(t->slots);
  free(t->stamps);
  free(t->starts);
  free(t->lens);
  free(t->hashes);
}

/* Empties the table; 0 when out of memory. */
static int table_reset(table_t *t) {
  if (!t->slots) {
    t->slots = calloc(1024, sizeof(uint32_t));
    t->stamps = calloc(1024, sizeof(uint32_t));
    t->mask = 1023;
    t->generation = 0;
    if (!t->slots || !t->stamps) return 0;
  }
  t->count = 0;
  if (++t->generation == 0) {
    memset(t->stamps, 0, (t->mask + 1) * sizeof(uint32_t));
    t->generation = 1;
  }
  return 1;
}

/* Doubles the slots and places every entry again. */
static int table_rehash(table_t *t) {
  uint32_t size = (t->mask + 1) * 2, mask = size - 1;
  uint32_t *slots = malloc(size * sizeof(uint32_t)), *stamps = calloc(size, sizeof(uint32_t));
  if (!slots || !stamps) {
    free(slots);
    free(stamps);
    return 0;
  }
  for (uint32_t i = 0; i < t->count; i++) {
    uint32_t slot = t->hashes[i] & mask;
    while (stamps[slot] == t->generation) slot = (slot + 1) & mask;
    stamps[slot] = t->generation;
    slots[slot] = i;
  }
  free(t->slots);
  free(t->stamps);
  t->slots = slots;
  t->stamps = stamps;
  t->mask = mask;
  return 1;
}

/* The entry of buf[start .. start + len), added when new; -1 when out of memory. */
static int64_t table_index(table_t *t, const uint8_t *buf, uint32_t start, uint32_t len) {
  uint32_t h = 0x811c9dc5;
  for (uint32_t i = 0; i < len; i++) h = (h ^ buf[start + i]) * 0x01000193;
  uint32_t slot = h & t->mask;
  while (t->stamps[slot] == t->generation) {
    uint32_t i = t->slots[slot];
    if (t->hashes[i] == h && t->lens[i] == len && memcmp(buf + t->starts[i], buf + start, len) == 0) return i;
    slot = (slot + 1) & t->mask;
  }
  if (t->count == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 256;
    uint32_t *starts = realloc(t->starts, cap * sizeof(uint32_t));
    if (starts) t->starts = starts;
    uint32_t *lens = realloc(t->lens, cap * sizeof(uint32_t));
    if (lens) t->lens = lens;
    uint32_t *hashes = realloc(t->hashes, cap * sizeof(uint32_t));
    if (hashes) t->hashes = hashes;
    if (!starts || !lens || !hashes) return -1;
    t->cap = cap;
  }
  uint32_t index = t->count++;
  t->starts[index] = start;
  t->lens[index] = len;
  t->hashes[index] = h;
  t->stamps[slot] = t->generation;
  t->slots[slot] = index;
  if (2 * t->count > t->mask + 1 && !table_rehash(t)) return -1;
  return index;
}

/* ---- reading records -------------------------------------------------------------------------------------------- */

/* A varint of buf[*pos .. len) (at most 64 bits); 0 when it runs past the end or is longer. */
static int read_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *pos < len; shift += 7) {
    uint8_t b = buf[(*pos)++];
    if (shift == 63 && b > 1) return 0;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (b < 0x80) {
      *out = v;
      return 1;
    }
  }
  return 0;
}

/* A length-prefixed slice of buf[*pos .. end): its start and length; 0 when it runs past end. */
static int read_slice(const uint8_t *buf, size_t end, size_t *pos, uint32_t *start, uint32_t *len) {
  uint64_t n;
  if (!read_varint(buf, end, pos, &n) || n > end - *pos) return 0;
  *start = (uint32_t)*pos;
  *len = (uint32_t)n;
  *pos += n;
  return 1;
}

static double f64_at(const uint8_t *p) {
  double v;
  memcpy(&v, p, 8); /* little-endian, as DataView.getFloat64(…, true) reads it on the hosts we build for */
  return v;
}

/**
 * Whether a layer name decodes to the same string from the same bytes only (strict UTF-8) and sorts by its bytes
 * as JavaScript sorts the string: no character from U+E000 to U+FFFF (lead byte 0xee or 0xef, which also rules out
 * a BOM). UTF-8 byte order is code point order, which is UTF-16 order for every other character.
 */
static int plain_name(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n;) {
    uint8_t b = p[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) len = 2;
    else if (b == 0xe0) len = 3, lo = 0xa0;
    else if (b >= 0xe1 && b <= 0xec) len = 3;
    else if (b == 0xed) len = 3, hi = 0x9f; /* no surrogates */
    else if (b == 0xf0) len = 4, lo = 0x90;
    else if (b >= 0xf1 && b <= 0xf3) len = 4;
    else if (b == 0xf4) len = 4, hi = 0x8f;
    else return 0;
    if (n - i < len || p[i + 1] < lo || p[i + 1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
      if (p[i + k] < 0x80 || p[i + k] > 0xbf) return 0;
    i += len;
  }
  return 1;
}

/* Grows the per-record arrays to n; 0 when out of memory. */
static int reserve_records(state_t *s, size_t n) {
  if (n <= s->rec_cap) return 1;
  size_t cap = s->rec_cap ? s->rec_cap : 256;
  while (cap < n) cap *= 2;
  rec_t *recs = realloc(s->recs, cap * sizeof(rec_t));
  if (recs) s->recs = recs;
  item_t *items = realloc(s->items, cap * sizeof(item_t));
  if (items) s->items = items;
  if (!recs || !items) return 0;
  s->rec_cap = cap;
  return 1;
}

/* Reads `count` records from buf[*pos], one after another, or when `starts` is given record i from buf[starts[i]];
   0 when the tile is not for this encoder (or memory ran out). */
static int read_records(state_t *s, const uint8_t *buf, size_t len, size_t *pos, const uint32_t *starts, size_t count) {
  if (!reserve_records(s, count) || !table_reset(&s->layers)) return 0;
  uint32_t last = UINT32_MAX, last_start = 0, last_len = 0;
  for (size_t i = 0; i < count; i++) {
    rec_t *r = &s->recs[i];
    uint64_t v;
    if (starts) *pos = starts[i];
    if (*pos >= len) return 0;
    uint8_t type = buf[(*pos)++];
    if (type >= 0x80) return 0; /* JavaScript writes it as a varint, yet counts one byte for it */
    r->type = type;
    if (!read_slice(buf, len, pos, &r->geom, &r->geom_len)) return 0;
    if (!read_varint(buf, len, pos, &v) || v > (uint64_t)TWO_53 || *pos >= len) return 0;
    r->seq = (double)v;
    uint8_t flags = buf[(*pos)++];
    r->sort_key = 0;
    r->id = -1;
    if (flags & 2) {
      if (len - *pos < 8) return 0;
      r->sort_key = f64_at(buf + *pos);
      *pos += 8;
      if (isnan(r->sort_key)) return 0;
    }
    if (flags & 1) {
      if (len - *pos < 8) return 0;
      r->id = f64_at(buf + *pos);
      *pos += 8;
      if (r->id >= 0 && (r->id >= TWO_64 || floor(r->id) != r->id)) return 0;
    }
    uint32_t name, name_len;
    if (!read_slice(buf, len, pos, &name, &name_len)) return 0;
    if (last != UINT32_MAX && name_len == last_len && memcmp(buf + name, buf + last_start, name_len) == 0) {
      r->layer = last;
    } else {
      uint32_t before = s->layers.count;
      int64_t at = table_index(&s->layers, buf, name, name_len);
      if (at < 0 || (s->layers.count != before && !plain_name(buf + name, name_len))) return 0;
      r->layer = last = (uint32_t)at;
      last_start = name;
      last_len = name_len;
    }
    uint32_t props_len;
    if (!read_slice(buf, len, pos, &r->props, &props_len)) return 0;
    r->props_end = r->props + props_len;
  }
  return 1;
}

/* ---- grouping and sorting ------------------------------------------------------------------------------------- */

/* the records' buffer and the layer names while the layers are sorted (qsort takes no context; per thread, as the
   tiler's workers each call it) */
static _Thread_local const uint8_t *sort_buf;
static _Thread_local const table_t *sort_names;

static int by_name(const void *a, const void *b) {
  uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
  uint32_t li = sort_names->lens[i], lj = sort_names->lens[j];
  int c = memcmp(sort_buf + sort_names->starts[i], sort_buf + sort_names->starts[j], li < lj ? li : lj);
  if (c) return c;
  return li < lj ? -1 : li > lj;
}

/* JavaScript's `sortKey[a] - sortKey[b] || seq[a] - seq[b]` (NaN keys excluded), then record order. */
static int by_feature(const void *a, const void *b) {
  const item_t *x = a, *y = b;
  if (x->sort_key < y->sort_key) return -1;
  if (x->sort_key > y->sort_key) return 1;
  if (x->seq < y->seq) return -1;
  if (x->seq > y->seq) return 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Items per layer (s->items, layer by layer, record order within each), layers listed in name order. */
static int group_layers(state_t *s, const uint8_t *buf, size_t count) {
  uint32_t nl = s->layers.count;
  if (!s->layer_at || nl > s->layer_cap) {
    size_t cap = s->layer_cap ? s->layer_cap : 64;
    while (cap < nl) cap *= 2;
    uint32_t *at = realloc(s->layer_at, (cap + 1) * sizeof(uint32_t));
    if (at) s->layer_at = at;
    uint32_t *order = realloc(s->layer_order, cap * sizeof(uint32_t));
    if (order) s->layer_order = order;
    if (!at || !order) return 0;
    s->layer_cap = cap;
  }
  uint32_t *at = s->layer_at;
  memset(at, 0, (nl + 1) * sizeof(uint32_t));
  for (size_t i = 0; i < count; i++) at[s->recs[i].layer + 1]++;
  for (uint32_t l = 0; l < nl; l++) at[l + 1] += at[l];
  for (size_t i = 0; i < count; i++) {
    const rec_t *r = &s->recs[i];
    item_t *it = &s->items[at[r->layer]++];
    it->sort_key = r->sort_key;
    it->seq = r->seq;
    it->index = (uint32_t)i;
  }
  /* at[l] is now where layer l ends, which is where layer l + 1 starts */
  memmove(at + 1, at, nl * sizeof(uint32_t));
  at[0] = 0;
  for (uint32_t l = 0; l < nl; l++) {
    item_t *items = s->items + at[l];
    size_t n = at[l + 1] - at[l];
    for (size_t k = 1; k < n; k++)
      if (by_feature(&items[k - 1], &items[k]) > 0) {
        qsort(items, n, sizeof(item_t), by_feature);
        break;
      }
    s->layer_order[l] = l;
  }
  if (nl > 1) {
    sort_buf = buf;
    sort_names = &s->layers;
    qsort(s->layer_order, nl, sizeof(uint32_t), by_name);
  }
  return 1;
}

/* ---- encoding --------------------------------------------------------------------------------------------------- */

/* Appends each entry of t as a length-delimited field `key` (the field's key byte). */
static int write_fields(bytes_t *w, const table_t *t, const uint8_t *buf, uint8_t key) {
  for (uint32_t i = 0; i < t->count; i++) {
    uint32_t n = t->lens[i];
    if (!reserve(w, 11 + (size_t)n)) return 0;
    uint8_t *p = w->data + w->len;
    *p++ = key;
    p = varint_at(p, n);
    memcpy(p, buf + t->starts[i], n);
    w->len = (size_t)(p + n - w->data);
  }
  return 1;
}

/* One layer (its items in order) appended to s->tile; 0 when the tile is not for this encoder. */
static int encode_layer(state_t *s, const uint8_t *buf, uint32_t l, uint64_t extent) {
  const table_t *names = &s->layers;
  bytes_t *w = &s->layer;
  w->len = 0;
  uint32_t name_len = names->lens[l];
  if (!reserve(w, 3 + 10 + (size_t)name_len)) return 0;
  w->data[w->len++] = 0x78; /* version (15), 2 */
  w->data[w->len++] = 2;
  w->data[w->len++] = 0x0a; /* name (1) */
  if (!put_varint(w, name_len) || !put(w, buf + names->starts[l], name_len)) return 0;
  if (!table_reset(&s->keys) || !table_reset(&s->values)) return 0;
  for (uint32_t k = s->layer_at[l]; k < s->layer_at[l + 1]; k++) {
    const rec_t *r = &s->recs[s->items[k].index];
    size_t pos = r->props, end = r->props_end;
    uint64_t n;
    if (!read_varint(buf, end, &pos, &n) || n > (end - pos) / 2) return 0; /* an entry takes 2 bytes or more */
    if (2 * n > s->tag_cap) {
      size_t cap = s->tag_cap ? s->tag_cap : 64;
      while (cap < 2 * n) cap *= 2;
      uint32_t *tags = realloc(s->tags, cap * sizeof(uint32_t));
      if (!tags) return 0;
      s->tags = tags;
      s->tag_cap = cap;
    }
    uint64_t tag_len = 0;
    for (uint64_t i = 0; i < n; i++) {
      uint32_t start, len;
      if (!read_slice(buf, end, &pos, &start, &len)) return 0;
      int64_t ki = table_index(&s->keys, buf, start, len);
      if (ki < 0 || !read_slice(buf, end, &pos, &start, &len)) return 0;
      int64_t vi = table_index(&s->values, buf, start, len);
      if (vi < 0) return 0;
      s->tags[2 * i] = (uint32_t)ki;
      s->tags[2 * i + 1] = (uint32_t)vi;
      tag_len += varint_size((uint64_t)ki) + varint_size((uint64_t)vi);
    }
    /* Feature message: id (1), tags (2, packed), type (3), geometry (4, packed) */
    int has_id = r->id >= 0;
    uint64_t id = has_id ? (uint64_t)r->id : 0;
    uint64_t size = (has_id ? 1 + varint_size(id) : 0) + (n ? 1 + varint_size(tag_len) + tag_len : 0) + 2 + 1 +
                    varint_size(r->geom_len) + r->geom_len;
    if (!reserve(w, 11 + size)) return 0;
    uint8_t *p = w->data + w->len;
    *p++ = 0x12;
    p = varint_at(p, size);
    if (has_id) {
      *p++ = 0x08;
      p = varint_at(p, id);
    }
    if (n) {
      *p++ = 0x12;
      p = varint_at(p, tag_len);
      for (uint64_t i = 0; i < 2 * n; i++) p = varint_at(p, s->tags[i]);
    }
    *p++ = 0x18;
    *p++ = r->type;
    *p++ = 0x22;
    p = varint_at(p, r->geom_len);
    memcpy(p, buf + r->geom, r->geom_len);
    w->len = (size_t)(p + r->geom_len - w->data);
  }
  if (!write_fields(w, &s->keys, buf, 0x1a) || !write_fields(w, &s->values, buf, 0x22)) return 0;
  if (!reserve(w, 11)) return 0;
  w->data[w->len++] = 0x28; /* extent (5) */
  if (!put_varint(w, extent)) return 0;
  bytes_t *t = &s->tile;
  if (!reserve(t, 11)) return 0;
  t->data[t->len++] = 0x1a; /* Tile.layers (3) */
  return put_varint(t, w->len) && put(t, w->data, w->len);
}

/* ---- the Node-API function -------------------------------------------------------------------------------------- */

static void free_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  state_t *s = data;
  free(s->recs);
  free(s->items);
  free(s->layer_at);
  free(s->layer_order);
  free(s->tags);
  table_free(&s->layers);
  table_free(&s->keys);
  table_free(&s->values);
  free(s->layer.data);
  free(s->tile.data);
  free(s);
}

static napi_value fail(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

/** The data and length of a typed array argument of this type; 0 when it is something else. */
static int typed_arg(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  bool typed = false;
  napi_typedarray_type type;
  return napi_is_typedarray(env, value, &typed) == napi_ok && typed &&
         napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) == napi_ok && type == want;
}

/* A number argument that is an integer from 0 to max; 0 when it is not. */
static int count_arg(napi_env env, napi_value value, double max, double *out) {
  return napi_get_value_double(env, value, out) == napi_ok && *out >= 0 && *out <= max && floor(*out) == *out;
}

static napi_value result(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

/* encodeTile and encodeTileAt: the records one after another from `start`, or at `starts` */
static napi_value encode(napi_env env, napi_callback_info info, int at) {
  size_t argc = 6;
  napi_value argv[6];
  const char *usage = at ? "encodeTileAt(buf, starts, count, extent, out, info) takes six arguments"
                         : "encodeTile(buf, start, count, extent, out, info) takes six arguments";
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6)
    return fail(env, "ERR_INVALID_ARG", usage);
  void *data, *out_data, *info_data, *starts_data = NULL;
  size_t length, out_length, info_length, starts_length = 0;
  if (!typed_arg(env, argv[0], napi_uint8_array, &data, &length) ||
      !typed_arg(env, argv[4], napi_uint8_array, &out_data, &out_length))
    return fail(env, "ERR_INVALID_ARG", "encodeTile: buf and out must be Uint8Arrays");
  if (!typed_arg(env, argv[5], napi_float64_array, &info_data, &info_length) || info_length < 2)
    return fail(env, "ERR_INVALID_ARG", "encodeTile: info must be a Float64Array of 2 or more");
  if (at && !typed_arg(env, argv[1], napi_uint32_array, &starts_data, &starts_length))
    return fail(env, "ERR_INVALID_ARG", "encodeTileAt: starts must be a Uint32Array");
  double start = 0, count, extent;
  if ((!at && !count_arg(env, argv[1], (double)length, &start)) ||
      !count_arg(env, argv[2], at ? (double)starts_length : 4294967295.0, &count) ||
      !count_arg(env, argv[3], TWO_53, &extent) || length > UINT32_MAX)
    return result(env, -1);
  state_t *s;
  if (napi_get_instance_data(env, (void **)&s) != napi_ok || !s) return fail(env, NULL, "encodeTile: not initialised");

  const uint8_t *buf = data ? data : (const uint8_t *)"";
  size_t pos = (size_t)start;
  if (!read_records(s, buf, length, &pos, starts_data, (size_t)count) || !group_layers(s, buf, (size_t)count))
    return result(env, -1);
  s->tile.len = 0;
  for (uint32_t k = 0; k < s->layers.count; k++)
    if (!encode_layer(s, buf, s->layer_order[k], (uint64_t)extent)) return result(env, -1);
  double *out_info = info_data;
  if (s->tile.len > out_length) {
    out_info[1] = (double)s->tile.len;
    return result(env, -2);
  }
  if (s->tile.len) memcpy(out_data, s->tile.data, s->tile.len);
  out_info[0] = (double)pos;
  return result(env, (double)s->tile.len);
}

static napi_value encode_tile(napi_env env, napi_callback_info info) {
  return encode(env, info, 0);
}

static napi_value encode_tile_at(napi_env env, napi_callback_info info) {
  return encode(env, info, 1);
}

NAPI_MODULE_INIT() {
  state_t *s = calloc(1, sizeof(state_t));
  if (!s || napi_set_instance_data(env, s, free_state, NULL) != napi_ok) {
    free(s);
    return fail(env, "ERR_OUT_OF_MEMORY", "tile: out of memory");
  }
  napi_value fn;
  napi_create_function(env, "encodeTile", NAPI_AUTO_LENGTH, encode_tile, NULL, &fn);
  napi_set_named_property(env, exports, "encodeTile", fn);
  napi_create_function(env, "encodeTileAt", NAPI_AUTO_LENGTH, encode_tile_at, NULL, &fn);
  napi_set_named_property(env, exports, "encodeTileAt", fn);
  return exports;
}
