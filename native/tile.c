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

/* Distinct byte strings of the records' buffer, numbered in order of first appearance: an open-addressing hash table
   (linear probing, at most half full). Entry i is buf[start .. start + len), kept with its first and last 8 bytes
   (see key_words), which with the length are the whole string up to 16 bytes: a hit on a short key or value, the most
   common case, is confirmed from the entry, without reading the record that holds the string. Slots are 8 bytes, so
   that a big tile's table of values, mostly distinct ones, misses the cache less; and each use of a table starts
   with few of them however many an earlier tile needed, so that emptying it clears only those and a small tile's
   lookups stay within a few cache lines. */
typedef struct {
  uint32_t hash, entry; /* the entry's index + 1; 0: empty */
} slot_t;

typedef struct {
  uint64_t a, b; /* see key_words */
  uint32_t start, len, hash;
} entry_t;

typedef struct {
  slot_t *slots;
  uint32_t slot_cap; /* slots allocated (a power of 2); mask + 1 of them in use */
  uint32_t mask;
  entry_t *entries;
  uint32_t count, cap;
} table_t;

typedef struct {
  uint8_t *data;
  size_t len, cap;
} bytes_t;

typedef struct {
  rec_t *recs;
  item_t *items, *sorted; /* sorted: room for merging */
  uint32_t *runs;         /* rec_cap + 1 places: where the runs of items to merge start */
  size_t rec_cap;
  uint32_t *layer_at; /* per layer (entry of `layers`): where its items start, then the next free place */
  uint32_t *layer_order;
  size_t *layer_len; /* per layer in name order: its message's length in `layers_out` */
  size_t layer_cap;
  uint32_t *tags;
  size_t tag_cap;
  table_t layers, keys, values;
  bytes_t layers_out; /* the layers' messages, one after another, without their keys and lengths in the tile */
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
  free(t->entries);
}

/* the slots a table starts with */
#define TABLE_MIN 64

/* Empties the table; 0 when out of memory. */
static int table_reset(table_t *t) {
  if (!t->slots) {
    t->slots = malloc(TABLE_MIN * sizeof(slot_t));
    if (!t->slots) return 0;
    t->slot_cap = TABLE_MIN;
  }
  t->count = 0;
  t->mask = TABLE_MIN - 1;
  memset(t->slots, 0, TABLE_MIN * sizeof(slot_t));
  return 1;
}

static inline uint64_t load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* 4 bytes, widened */
static inline uint64_t load32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* A string's key: from 8 bytes on, its first and last 8 bytes, which up to 16 bytes cover all of it (overlapping),
   so that with the length they are the string; from 4 to 7 bytes, its first and last 4 (the same); below, the
   bytes 0, len / 2 and len - 1 (all of them). No byte outside the string is read. The hash mixes these, the length
   and the bytes between (past 16 bytes): any hash would number the entries the same, this one is fast for the
   short keys and values records carry. */
typedef struct {
  uint64_t a, b;
  uint32_t hash;
} str_key_t;

/* The key of p[0 .. len), its hash still 0. */
static inline str_key_t key_words(const uint8_t *p, uint32_t len) {
  str_key_t key = {0, 0, 0};
  if (len >= 8) {
    key.a = load64(p);
    key.b = load64(p + len - 8);
  } else if (len >= 4) {
    key.a = load32(p);
    key.b = load32(p + len - 4);
  } else if (len) {
    key.a = p[0] | (uint32_t)p[len >> 1] << 8 | (uint32_t)p[len - 1] << 16;
  }
  return key;
}

/* The hash of p[0 .. len), whose key_words are `key`. */
static inline uint32_t key_hash(str_key_t key, const uint8_t *p, uint32_t len) {
  const uint64_t k = 0x9e3779b97f4a7c15;
  uint64_t seed = len;
  for (uint32_t i = 8; i + 8 < len; i += 8) seed = (seed ^ load64(p + i)) * k;
  uint64_t h = (key.a ^ seed) * k ^ key.b * 0xd6e8feb86659fd93;
  /* a product's high bits depend on all of its factors' bits, its low bits (the slot) only on their low bits */
  h ^= h >> 32;
  return (uint32_t)((h * k) >> 32);
}

/* Whether p[0 .. len) and q[0 .. len) are equal: inline (memcmp is a call, and the strings are short). */
static inline int same_bytes(const uint8_t *p, const uint8_t *q, uint32_t len) {
  if (len >= 8) {
    for (uint32_t i = 0; i + 8 < len; i += 8)
      if (load64(p + i) != load64(q + i)) return 0;
    return load64(p + len - 8) == load64(q + len - 8);
  }
  if (len >= 4) return load32(p) == load32(q) && load32(p + len - 4) == load32(q + len - 4);
  for (uint32_t i = 0; i < len; i++)
    if (p[i] != q[i]) return 0;
  return 1;
}

/* Doubles the slots in use and places every entry again. */
static int table_grow(table_t *t) {
  uint32_t size = (t->mask + 1) * 2;
  if (size > t->slot_cap) {
    slot_t *slots = realloc(t->slots, size * sizeof(slot_t));
    if (!slots) return 0;
    t->slots = slots;
    t->slot_cap = size;
  }
  t->mask = size - 1;
  memset(t->slots, 0, size * sizeof(slot_t));
  for (uint32_t i = 0; i < t->count; i++) {
    uint32_t slot = t->entries[i].hash & t->mask;
    while (t->slots[slot].entry) slot = (slot + 1) & t->mask;
    t->slots[slot] = (slot_t){t->entries[i].hash, i + 1};
  }
  return 1;
}

/* Adds buf[start .. start + len) (key) as a new entry at the empty slot; its index, or -1 when out of memory. Not
   inline, so that table_index is small enough to be. */
__attribute__((noinline)) static int64_t table_add(table_t *t, str_key_t key, uint32_t slot, uint32_t start,
                                                   uint32_t len) {
  if (t->count == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 256;
    entry_t *entries = realloc(t->entries, cap * sizeof(entry_t));
    if (!entries) return -1;
    t->entries = entries;
    t->cap = cap;
  }
  uint32_t index = t->count++;
  t->entries[index] = (entry_t){key.a, key.b, start, len, key.hash};
  t->slots[slot] = (slot_t){key.hash, index + 1};
  if (2 * t->count > t->mask + 1 && !table_grow(t)) return -1;
  return index;
}

/* Whether entry e is buf[start .. start + len), whose key_words are `key`. */
static inline int entry_is(const entry_t *e, str_key_t key, const uint8_t *buf, uint32_t start, uint32_t len) {
  return e->a == key.a && e->b == key.b && e->len == len &&
         (len <= 16 || same_bytes(buf + e->start + 8, buf + start + 8, len - 16));
}

/* The entry of buf[start .. start + len), added when new; -1 when out of memory. `guess` is an entry it may well be
   (or any number): a feature's keys are mostly the previous feature's, in the same order, and are then found
   without hashing. Always inline (gcc would not, with three callers): a lookup is a few dozen instructions, a call
   added a third to them. */
__attribute__((always_inline)) static inline int64_t table_index(table_t *t, const uint8_t *buf, uint32_t start,
                                                                 uint32_t len, uint32_t guess) {
  str_key_t key = key_words(buf + start, len);
  if (guess < t->count && entry_is(&t->entries[guess], key, buf, start, len)) return guess;
  key.hash = key_hash(key, buf + start, len);
  uint32_t slot = key.hash & t->mask;
  for (const slot_t *s; (s = &t->slots[slot])->entry; slot = (slot + 1) & t->mask)
    if (s->hash == key.hash && entry_is(&t->entries[s->entry - 1], key, buf, start, len)) return s->entry - 1;
  return table_add(t, key, slot, start, len);
}

/* ---- reading records -------------------------------------------------------------------------------------------- */

/* read_varint past its first byte: not inline, as it is seldom needed */
__attribute__((noinline)) static int read_long_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out) {
  uint64_t v = 0;
  for (size_t p = *pos, shift = 0; shift < 64 && p < len; shift += 7) {
    uint8_t b = buf[p++];
    v |= (uint64_t)(b & 0x7f) << shift;
    if (b < 0x80) {
      if (shift == 63 && b > 1) return 0;
      *out = v;
      *pos = p;
      return 1;
    }
  }
  return 0;
}

/* A varint of buf[*pos .. len) (at most 64 bits); 0 when it runs past the end or is longer. Most are one byte
   (lengths, counts), read inline. */
static inline int read_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out) {
  if (*pos < len && buf[*pos] < 0x80) {
    *out = buf[(*pos)++];
    return 1;
  }
  return read_long_varint(buf, len, pos, out);
}

/* A length-prefixed slice of buf[*pos .. end): its start and length; 0 when it runs past end. */
static inline int read_slice(const uint8_t *buf, size_t end, size_t *pos, uint32_t *start, uint32_t *len) {
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

/* how many records ahead of the one read (or encoded) the one whose bytes are asked for */
#define PREFETCH 8

/* Grows the per-record arrays to n; 0 when out of memory. */
static int reserve_records(state_t *s, size_t n) {
  if (n <= s->rec_cap) return 1;
  size_t cap = s->rec_cap ? s->rec_cap : 256;
  while (cap < n) cap *= 2;
  rec_t *recs = realloc(s->recs, cap * sizeof(rec_t));
  if (recs) s->recs = recs;
  item_t *items = realloc(s->items, cap * sizeof(item_t));
  if (items) s->items = items;
  item_t *sorted = realloc(s->sorted, cap * sizeof(item_t));
  if (sorted) s->sorted = sorted;
  uint32_t *runs = realloc(s->runs, (cap + 1) * sizeof(uint32_t));
  if (runs) s->runs = runs;
  if (!recs || !items || !sorted || !runs) return 0;
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
    if (starts) {
      /* records that lie apart are cache misses each: ask for the ones a few records ahead now */
      if (i + PREFETCH < count && starts[i + PREFETCH] < len) __builtin_prefetch(buf + starts[i + PREFETCH]);
      *pos = starts[i];
    }
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
    if (last != UINT32_MAX && name_len == last_len && same_bytes(buf + name, buf + last_start, name_len)) {
      r->layer = last;
    } else {
      uint32_t before = s->layers.count;
      int64_t at = table_index(&s->layers, buf, name, name_len, UINT32_MAX);
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
  const entry_t *x = &sort_names->entries[i], *y = &sort_names->entries[j];
  uint32_t li = x->len, lj = y->len;
  int c = memcmp(sort_buf + x->start, sort_buf + y->start, li < lj ? li : lj);
  if (c) return c;
  return li < lj ? -1 : li > lj;
}

/* Whether x goes before y: JavaScript's `sortKey[a] - sortKey[b] || seq[a] - seq[b]` (NaN keys excluded; -0 and 0
   are equal), then record order. */
static inline int before(const item_t *x, const item_t *y) {
  if (x->sort_key != y->sort_key) return x->sort_key < y->sort_key;
  if (x->seq != y->seq) return x->seq < y->seq;
  return x->index < y->index;
}

/* Sorts items[0 .. n) by `before` (a total order, as record indices differ): a natural merge sort, with tmp for n
   items and runs for n + 1 places. A tile's records come in a few runs that are each in order (records written
   apart, then merged by tile), so finding the runs and merging them two by two takes a few passes, with no call per
   comparison as qsort makes. */
static void sort_items(item_t *items, item_t *tmp, uint32_t *runs, size_t n) {
  size_t nr = 0;
  runs[nr++] = 0;
  for (size_t k = 1; k < n; k++)
    if (before(&items[k], &items[k - 1])) runs[nr++] = (uint32_t)k;
  runs[nr] = (uint32_t)n;
  item_t *src = items, *dst = tmp;
  while (nr > 1) {
    size_t out = 0;
    for (size_t r = 0; r < nr; r += 2) {
      size_t lo = runs[r], mid = runs[r + 1];
      runs[out++] = (uint32_t)lo; /* out ≤ r: the places still to be read are not written */
      if (r + 1 == nr) {
        memcpy(dst + lo, src + lo, (mid - lo) * sizeof(item_t));
        break;
      }
      size_t hi = runs[r + 2], i = lo, j = mid, k = lo;
      while (i < mid && j < hi) dst[k++] = before(&src[j], &src[i]) ? src[j++] : src[i++];
      memcpy(dst + k, src + i, (mid - i) * sizeof(item_t));
      k += mid - i;
      memcpy(dst + k, src + j, (hi - j) * sizeof(item_t));
    }
    runs[out] = (uint32_t)n;
    nr = out;
    item_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != items) memcpy(items, src, n * sizeof(item_t));
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
    size_t *lens = realloc(s->layer_len, cap * sizeof(size_t));
    if (lens) s->layer_len = lens;
    if (!at || !order || !lens) return 0;
    s->layer_cap = cap;
  }
  uint32_t *at = s->layer_at;
  memset(at, 0, (nl + 1) * sizeof(uint32_t));
  if (nl == 1) at[1] = (uint32_t)count; /* most tiles: one layer, its records not counted */
  else
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
    sort_items(s->items + at[l], s->sorted + at[l], s->runs, at[l + 1] - at[l]);
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
    uint32_t n = t->entries[i].len;
    if (!reserve(w, 11 + (size_t)n)) return 0;
    uint8_t *p = w->data + w->len;
    *p++ = key;
    p = varint_at(p, n);
    memcpy(p, buf + t->entries[i].start, n);
    w->len = (size_t)(p + n - w->data);
  }
  return 1;
}

/* One layer's message (its items in order) appended to s->layers_out, its length returned in *length; 0 when the
   tile is not for this encoder. */
static int encode_layer(state_t *s, const uint8_t *buf, uint32_t l, uint64_t extent, size_t *length) {
  const table_t *names = &s->layers;
  bytes_t *w = &s->layers_out;
  size_t begin = w->len;
  uint32_t name_len = names->entries[l].len;
  if (!reserve(w, 3 + 10 + (size_t)name_len)) return 0;
  w->data[w->len++] = 0x78; /* version (15), 2 */
  w->data[w->len++] = 2;
  w->data[w->len++] = 0x0a; /* name (1) */
  if (!put_varint(w, name_len) || !put(w, buf + names->entries[l].start, name_len)) return 0;
  if (!table_reset(&s->keys) || !table_reset(&s->values)) return 0;
  for (uint32_t k = s->layer_at[l], stop = s->layer_at[l + 1]; k < stop; k++) {
    /* the properties lie past the geometry, often on a cache line that reading the record did not bring */
    if (k + PREFETCH < stop) __builtin_prefetch(buf + s->recs[s->items[k + PREFETCH].index].props);
    const rec_t *r = &s->recs[s->items[k].index];
    size_t pos = r->props, end = r->props_end;
    uint64_t n;
    if (!read_varint(buf, end, &pos, &n) || n > (end - pos) / 2) return 0; /* an entry takes 2 bytes or more */
    if (2 * n > s->tag_cap) {
      size_t cap = s->tag_cap ? s->tag_cap : 64;
      while (cap < 2 * n) cap *= 2;
      uint32_t *tags = realloc(s->tags, cap * sizeof(uint32_t));
      if (!tags) return 0;
      memset(tags + s->tag_cap, 0, (cap - s->tag_cap) * sizeof(uint32_t)); /* no guess is read uninitialised */
      s->tags = tags;
      s->tag_cap = cap;
    }
    uint64_t tag_len = 0;
    for (uint64_t i = 0; i < n; i++) {
      uint32_t start, len;
      if (!read_slice(buf, end, &pos, &start, &len)) return 0;
      int64_t ki = table_index(&s->keys, buf, start, len, s->tags[2 * i]); /* the previous feature's key here */
      if (ki < 0 || !read_slice(buf, end, &pos, &start, &len)) return 0;
      int64_t vi = table_index(&s->values, buf, start, len, UINT32_MAX);
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
  *length = w->len - begin;
  return 1;
}

/* ---- the Node-API function -------------------------------------------------------------------------------------- */

static void free_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  state_t *s = data;
  free(s->recs);
  free(s->items);
  free(s->sorted);
  free(s->runs);
  free(s->layer_at);
  free(s->layer_order);
  free(s->tags);
  table_free(&s->layers);
  table_free(&s->keys);
  table_free(&s->values);
  free(s->layer_len);
  free(s->layers_out.data);
  free(s);
}

static napi_value fail(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

/** The data and length of a typed array argument of this type; 0 when it is something else. */
static int typed_arg(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  /* napi_invalid_arg when value is no typed array (no exception pending): no napi_is_typedarray call first */
  return napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) == napi_ok && type == want;
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
  s->layers_out.len = 0;
  uint32_t nl = s->layers.count;
  size_t size = 0;
  for (uint32_t k = 0; k < nl; k++) {
    if (!encode_layer(s, buf, s->layer_order[k], (uint64_t)extent, &s->layer_len[k])) return result(env, -1);
    size += 1 + varint_size(s->layer_len[k]) + s->layer_len[k];
  }
  double *out_info = info_data;
  if (size > out_length) {
    out_info[1] = (double)size;
    return result(env, -2);
  }
  /* the tile: each layer as Tile.layers (3), written straight into out */
  uint8_t *p = out_data;
  const uint8_t *layer = s->layers_out.data;
  for (uint32_t k = 0; k < nl; k++) {
    *p++ = 0x1a;
    p = varint_at(p, s->layer_len[k]);
    memcpy(p, layer, s->layer_len[k]);
    p += s->layer_len[k];
    layer += s->layer_len[k];
  }
  out_info[0] = (double)pos;
  return result(env, (double)size);
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
