/*
 * weft's fast path for plain features in newline-delimited GeoJSON: a Node-API module, built by scripts/setup.sh
 * into build/native/geojson.node and used by pipeline/tiler/native-points.ts. It scans a chunk of lines and, for
 * each line that is a plain Feature whose geometry is a Point (and, when asked, a LineString, MultiLineString,
 * Polygon or MultiPolygon), returns its position or positions, id and properties already encoded the way the
 * engine stores them, with no JavaScript object made. Every other line (another geometry, a FeatureCollection, bad
 * JSON, anything unusual) is handed back by its byte range, and the JavaScript map stage parses it as before; so
 * this only has to recognise its subset exactly, never to report errors.
 *
 *   scanPoints(chunk: Uint8Array, flags = 1)
 *     → { items: Float64Array, props: Buffer, signatures: string[][], coords: Float64Array, parts: Uint32Array }
 *   writeRecords(points, shapes, coords, parts, props, layer, ranges, zooms, extent, buffer)
 *     → { bytes, tileIds, offsets }                                                             (see below)
 *
 * flags: 1 takes Point features, 2 the four shape types, 3 both.
 * items, ITEM_SIZE numbers per non-blank line, in line order:
 *   [0, line, start, end, 0, 0, 0, 0, 0]                                 a line for the JavaScript parser:
 *                                                                         chunk[start .. end)
 *   [1, line, lon, lat, id, propsStart, propsEnd, sig, 0]                 a Point Feature
 *   [kind, line, coordStart, coordEnd, id, propsStart, propsEnd, sig, partsStart]   a shape Feature, kind 2
 *                                                                         LineString, 3 MultiLineString,
 *                                                                         4 Polygon, 5 MultiPolygon
 * `line` counts from 0 at the chunk's start; id is NaN when absent or not an id. props[propsStart .. propsEnd) is
 * the properties as the engine's records hold them (`[count varint]([key: varint length + UTF-8][Value message:
 * varint length + bytes])…`, null values left out). signatures[sig] lists the feature's property keys with their
 * type names (String, Number, Boolean), flattened [key, type, key, type, …].
 * A shape's positions are coords[2 * coordStart .. 2 * coordEnd) as lon, lat pairs (every one within
 * ±180, ±90), and its structure is parts[partsStart …], counts in the nesting of its coordinates: a LineString
 * [positions], a MultiLineString [lines, positions of each], a Polygon [rings, positions of each], a
 * MultiPolygon [polygons, then per polygon: rings, positions of each]. No count is 0.
 *
 * writeRecords then writes the records of the scanned features the map stage keeps, byte for byte as the
 * JavaScript map stage would (Mapper.add, tileAtZoom, encodeGeometry, RecordWriter), as one sorted run. Their
 * positions are projected and their zooms chosen in JavaScript, and so are the per-zoom tolerances, so that every
 * result of Math.sin, Math.log and ** is JavaScript's own; what is done here (Douglas–Peucker importance, the
 * tiny-feature drop, simplification, the clipping into tiles with a buffer, Math.round, the command encoding) is
 * the same IEEE arithmetic in the same order (compiled with -ffp-contract=off, no fast-math).
 *
 * A line stays with JavaScript when its properties hold an object, an array, a number beyond double range, a
 * key made only of digits (JavaScript orders those first), "__proto__", or a repeated key; when its id is neither
 * a number nor a string; when its geometry has members besides type and coordinates; when a shape has an empty
 * array anywhere in its coordinates, a position that is not two or more numbers, or a position outside ±180, ±90
 * (JavaScript reports it); or when anything in it is not strict JSON or valid UTF-8 (the JavaScript parser then
 * gives its own error).
 */
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_SIZE 9
#define MAX_DEPTH 64
#define MAX_SINT 4503599627370496.0    /* 2^52, as in pipeline/mvt/encode.ts */
#define MAX_SAFE 9007199254740991.0    /* Number.MAX_SAFE_INTEGER */

typedef struct {
  uint8_t *data;
  size_t len, cap;
} bytes_t;

static int grow(bytes_t *b, size_t n) {
  if (b->len + n <= b->cap) return 1;
  size_t cap = b->cap ? b->cap * 2 : 4096;
  while (cap < b->len + n) cap *= 2;
  uint8_t *d = realloc(b->data, cap);
  if (!d) return 0;
  b->data = d;
  b->cap = cap;
  return 1;
}

static int put(bytes_t *b, const void *src, size_t n) {
  if (!n) return 1; /* (memcpy with a null pointer, even of nothing, is undefined) */
  if (!grow(b, n)) return 0;
  memcpy(b->data + b->len, src, n);
  b->len += n;
  return 1;
}

static int put_varint(bytes_t *b, uint64_t v) {
  if (!grow(b, 10)) return 0;
  while (v >= 0x80) {
    b->data[b->len++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  b->data[b->len++] = (uint8_t)v;
  return 1;
}

/** Writes v as a varint at p, where the caller has made room (10 bytes at most); returns the byte after it. */
static inline uint8_t *write_varint(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

static size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

typedef struct {
  const uint8_t *p, *end;
} cur_t;

static void ws(cur_t *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n')) c->p++;
}

static int lit(cur_t *c, const char *s) {
  size_t n = strlen(s);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0) return 0;
  c->p += n;
  return 1;
}

static int hex4(const uint8_t *p, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    uint8_t h = p[i];
    v <<= 4;
    if (h >= '0' && h <= '9') v |= h - '0';
    else if (h >= 'a' && h <= 'f') v |= h - 'a' + 10;
    else if (h >= 'A' && h <= 'F') v |= h - 'A' + 10;
    else return 0;
  }
  *out = v;
  return 1;
}

static int put_utf8(bytes_t *b, uint32_t cp) {
  uint8_t u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (uint8_t)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (uint8_t)(0xc0 | (cp >> 6));
    u[1] = (uint8_t)(0x80 | (cp & 0x3f));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (uint8_t)(0xe0 | (cp >> 12));
    u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    u[2] = (uint8_t)(0x80 | (cp & 0x3f));
    n = 3;
  } else {
    u[0] = (uint8_t)(0xf0 | (cp >> 18));
    u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    u[3] = (uint8_t)(0x80 | (cp & 0x3f));
    n = 4;
  }
  return put(b, u, n);
}

/** Length of the valid UTF-8 sequence starting at p (a byte ≥ 0x80), or 0. */
static size_t utf8_seq(const uint8_t *p, const uint8_t *end) {
  uint8_t b0 = p[0];
  size_t n;
  uint8_t lo = 0x80, hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) n = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;
  } else return 0;
  if ((size_t)(end - p) < n) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xbf) return 0;
  return n;
}

/* The bytes a string holds as they are: ASCII but for controls, '"' and '\\' (one table look-up a byte; a GCC
   range designator, later entries overriding it). */
static const uint8_t STRING_PLAIN[256] = {[0x20 ... 0x7f] = 1, ['"'] = 0, ['\\'] = 0};

/** A JSON string at the cursor, its UTF-8 appended to out; 0 when it is not one we take (lone surrogates too). */
static int parse_string(cur_t *c, bytes_t *out) {
  if (c->p >= c->end || *c->p != '"') return 0;
  c->p++;
  for (;;) {
    const uint8_t *run = c->p;
    while (c->p < c->end && STRING_PLAIN[*c->p]) c->p++;
    if (c->p > run && !put(out, run, c->p - run)) return 0;
    if (c->p >= c->end) return 0;
    uint8_t ch = *c->p;
    if (ch == '"') {
      c->p++;
      return 1;
    }
    if (ch < 0x20) return 0;
    if (ch >= 0x80) {
      size_t n = utf8_seq(c->p, c->end);
      if (!n || !put(out, c->p, n)) return 0;
      c->p += n;
      continue;
    }
    /* an escape */
    if (c->end - c->p < 2) return 0;
    uint8_t e = c->p[1];
    c->p += 2;
    uint8_t one;
    switch (e) {
      case '"': one = '"'; break;
      case '\\': one = '\\'; break;
      case '/': one = '/'; break;
      case 'b': one = '\b'; break;
      case 'f': one = '\f'; break;
      case 'n': one = '\n'; break;
      case 'r': one = '\r'; break;
      case 't': one = '\t'; break;
      case 'u': {
        uint32_t cp;
        if (c->end - c->p < 4 || !hex4(c->p, &cp)) return 0;
        c->p += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff) return 0;
        if (cp >= 0xd800 && cp <= 0xdbff) {
          uint32_t lo;
          if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' || !hex4(c->p + 2, &lo)) return 0;
          if (lo < 0xdc00 || lo > 0xdfff) return 0;
          c->p += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (!put_utf8(out, cp)) return 0;
        continue;
      }
      default: return 0;
    }
    if (!put(out, &one, 1)) return 0;
  }
}

static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/**
 * A JSON number at the cursor (strict grammar), correctly rounded like JSON.parse: when its digits make an integer
 * m ≤ 2^53 and its decimal exponent k is within ±22, m and 10^|k| are exact doubles and one IEEE multiplication or
 * division rounds correctly (Clinger's fast path); anything else goes to strtod.
 */
static int parse_number(cur_t *c, double *out) {
  const uint8_t *s = c->p, *p = c->p, *e = c->end;
  int negative = 0;
  uint64_t m = 0;
  int digits = 0, scale = 0;
  if (p < e && *p == '-') {
    negative = 1;
    p++;
  }
  if (p >= e) return 0;
  if (*p == '0') p++;
  else if (*p >= '1' && *p <= '9')
    for (; p < e && *p >= '0' && *p <= '9'; p++, digits++)
      if (digits < 19) m = m * 10 + (*p - '0');
      else scale++;
  else return 0;
  if (p < e && *p == '.') {
    p++;
    if (p >= e || *p < '0' || *p > '9') return 0;
    for (; p < e && *p >= '0' && *p <= '9'; p++)
      if (digits < 19 && (m || *p != '0' ? ++digits : 1)) m = m * 10 + (*p - '0'), scale--;
  }
  int exp = 0, exp_negative = 0, exp_digits = 0;
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < e && (*p == '+' || *p == '-')) exp_negative = *p++ == '-';
    if (p >= e || *p < '0' || *p > '9') return 0;
    for (; p < e && *p >= '0' && *p <= '9'; p++, exp_digits++)
      if (exp < 100000) exp = exp * 10 + (*p - '0');
  }
  c->p = p;
  int k = scale + (exp_negative ? -exp : exp);
  if (digits < 19 && m <= (1ULL << 53) && k >= -22 && k <= 22) {
    double v = (double)m;
    v = k < 0 ? v / POW10[-k] : v * POW10[k];
    *out = negative ? -v : v;
    return 1;
  }
  char tmp[128];
  size_t n = p - s;
  if (n >= sizeof tmp) return 0;
  memcpy(tmp, s, n);
  tmp[n] = 0;
  *out = strtod(tmp, NULL);
  return 1;
}

/** After an object member or array element: 1 when another follows (the comma passed), 2 at the closing bracket
 * (passed), 0 on anything else. */
static int after_member(cur_t *c, uint8_t close) {
  ws(c);
  if (c->p >= c->end) return 0;
  if (*c->p == ',') {
    c->p++;
    ws(c);
    return 1;
  }
  if (*c->p == close) {
    c->p++;
    return 2;
  }
  return 0;
}

/** An object member's key (appended to out) and the colon after it. */
static int member_key(cur_t *c, bytes_t *out) {
  if (!parse_string(c, out)) return 0;
  ws(c);
  if (c->p >= c->end || *c->p != ':') return 0;
  c->p++;
  ws(c);
  return 1;
}

static int skip_value(cur_t *c, bytes_t *scratch, int depth);

static int skip_container(cur_t *c, bytes_t *scratch, int depth, uint8_t close, int object) {
  c->p++;
  ws(c);
  if (c->p < c->end && *c->p == close) {
    c->p++;
    return 1;
  }
  for (;;) {
    if (object) {
      scratch->len = 0;
      if (!member_key(c, scratch)) return 0;
    }
    if (!skip_value(c, scratch, depth + 1)) return 0;
    int next = after_member(c, close);
    if (next != 1) return next == 2;
  }
}

/** Checks and passes over any JSON value. */
static int skip_value(cur_t *c, bytes_t *scratch, int depth) {
  if (depth > MAX_DEPTH || c->p >= c->end) return 0;
  double d;
  switch (*c->p) {
    case '"': scratch->len = 0; return parse_string(c, scratch);
    case '{': return skip_container(c, scratch, depth, '}', 1);
    case '[': return skip_container(c, scratch, depth, ']', 0);
    case 't': return lit(c, "true");
    case 'f': return lit(c, "false");
    case 'n': return lit(c, "null");
    default: return parse_number(c, &d);
  }
}

/* ---- property signatures: the keys and value types of a feature's properties, numbered per chunk ------------- */

typedef struct {
  bytes_t text;      /* every signature's text, one after another */
  size_t *starts;    /* signature i: text[starts[i] .. starts[i + 1]) */
  size_t count, cap;
} signatures_t;

static long signature_id(signatures_t *s, const uint8_t *sig, size_t n) {
  for (size_t i = 0; i < s->count; i++) {
    size_t a = s->starts[i], b = i + 1 < s->count ? s->starts[i + 1] : s->text.len;
    if (b - a == n && (!n || memcmp(s->text.data + a, sig, n) == 0)) return (long)i;
  }
  if (s->count == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    size_t *st = realloc(s->starts, cap * sizeof *st);
    if (!st) return -1;
    s->starts = st;
    s->cap = cap;
  }
  s->starts[s->count] = s->text.len;
  if (!put(&s->text, sig, n)) return -1;
  return (long)s->count++;
}

/* ---- one line ------------------------------------------------------------------------------------------------ */

#define MAX_KEYS 256

typedef struct {
  bytes_t props;   /* the output blob */
  bytes_t entries; /* this feature's encoded entries */
  bytes_t sig;     /* this feature's signature text: key \0 type \0 … */
  bytes_t keys;    /* this feature's keys (null-valued ones too), for the repeat check */
  bytes_t scratch;
  size_t key_offs[MAX_KEYS], key_lens[MAX_KEYS];
  signatures_t sigs;
  bytes_t coords; /* the shapes' positions: lon, lat doubles */
  bytes_t parts;  /* the shapes' structure: uint32 counts */
  int flags;      /* what the scan takes: 1 points, 2 shapes */
} scan_t;

static int is_digits(const uint8_t *k, size_t n) {
  if (!n) return 0;
  for (size_t i = 0; i < n; i++)
    if (k[i] < '0' || k[i] > '9') return 0;
  return 1;
}

/** The Value message (varint length + bytes) of a finite number, typed as pipeline/mvt/encode.ts types it. */
static int put_number_value(bytes_t *b, double v) {
  if (v == floor(v) && v >= 0 && v <= MAX_SAFE) {
    uint64_t u = (uint64_t)v;
    return put_varint(b, 1 + varint_size(u)) && put_varint(b, 0x28) && put_varint(b, u);
  }
  if (v == floor(v) && v < 0 && v >= -MAX_SINT) {
    uint64_t z = (uint64_t)(-2.0 * v - 1.0);
    return put_varint(b, 1 + varint_size(z)) && put_varint(b, 0x30) && put_varint(b, z);
  }
  if ((double)(float)v == v) {
    float f = (float)v;
    uint8_t msg[6] = {5, 0x15};
    memcpy(msg + 2, &f, 4); /* little-endian hosts (x86-64, arm64) */
    return put(b, msg, 6);
  }
  uint8_t msg[10] = {9, 0x19};
  memcpy(msg + 2, &v, 8);
  return put(b, msg, 10);
}

/** The properties object (or null): this feature's entries and signature; 0 leaves the line to JavaScript. */
static int parse_properties(scan_t *s, cur_t *c, uint64_t *count) {
  *count = 0; /* entries and sig: emptied by parse_feature */
  s->keys.len = 0;
  if (lit(c, "null")) return 1;
  if (c->p >= c->end || *c->p != '{') return 0;
  c->p++;
  ws(c);
  if (c->p < c->end && *c->p == '}') {
    c->p++;
    return 1;
  }
  size_t nkeys = 0;
  for (;;) {
    size_t at = s->keys.len;
    if (!member_key(c, &s->keys)) return 0;
    const uint8_t *k = s->keys.data + at;
    size_t kn = s->keys.len - at;
    if (is_digits(k, kn) || (kn == 9 && memcmp(k, "__proto__", 9) == 0)) return 0;
    if (nkeys == MAX_KEYS) return 0;
    for (size_t i = 0; i < nkeys; i++)
      if (s->key_lens[i] == kn && memcmp(s->keys.data + s->key_offs[i], k, kn) == 0) return 0;
    s->key_offs[nkeys] = at;
    s->key_lens[nkeys] = kn;
    nkeys++;
    if (c->p >= c->end) return 0;
    uint8_t ch = *c->p;
    const char *type = NULL;
    if (ch == 'n') {
      if (!lit(c, "null")) return 0; /* left out, as flattenProperties leaves it out */
    } else {
      if (!put_varint(&s->entries, kn) || !put(&s->entries, s->keys.data + at, kn)) return 0;
      if (ch == '"') {
        s->scratch.len = 0;
        if (!parse_string(c, &s->scratch)) return 0;
        size_t n = s->scratch.len;
        if (!put_varint(&s->entries, 1 + varint_size(n) + n) || !put_varint(&s->entries, 0x0a) ||
            !put_varint(&s->entries, n) || !put(&s->entries, s->scratch.data, n))
          return 0;
        type = "String";
      } else if (ch == 't' || ch == 'f') {
        int v = ch == 't';
        if (!lit(c, v ? "true" : "false")) return 0;
        uint8_t msg[3] = {2, 0x38, (uint8_t)v};
        if (!put(&s->entries, msg, 3)) return 0;
        type = "Boolean";
      } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
        double v;
        if (!parse_number(c, &v) || !isfinite(v) || !put_number_value(&s->entries, v)) return 0;
        type = "Number";
      } else return 0; /* an object or an array: JavaScript writes them as JSON text */
      *count += 1;
      if (!put(&s->sig, s->keys.data + at, kn) || !put(&s->sig, "", 1) || !put(&s->sig, type, strlen(type) + 1))
        return 0;
    }
    int next = after_member(c, '}');
    if (next != 1) return next == 2;
  }
}

enum { KIND_POINT = 1, KIND_LINESTRING, KIND_MULTILINESTRING, KIND_POLYGON, KIND_MULTIPOLYGON };
/* the nesting level of each kind's positions: 0 for a Point's own position, 1 in a LineString's array, … */
static const int KIND_LEVEL[] = {-1, 0, 1, 2, 2, 3};

static int put_u32(bytes_t *b, uint32_t v) { return put(b, &v, 4); }

/**
 * Coordinates (an array at nesting level `level`, at most `max_level`): a position (two or more numbers) or a
 * non-empty array of them, of arrays of them, …, all positions at one level (*pos_level). A Point's position (level
 * 0) goes to lon/lat; deeper ones, which must lie within ±180, ±90, to s->coords, and every array of arrays adds
 * its count to s->parts (in pre-order).
 */
static int parse_coords(scan_t *s, cur_t *c, int level, int max_level, int *pos_level, double *lon, double *lat) {
  if (c->p >= c->end || *c->p != '[') return 0;
  c->p++;
  ws(c);
  if (c->p >= c->end) return 0;
  uint8_t ch = *c->p;
  if (ch == '-' || (ch >= '0' && ch <= '9')) {
    if (*pos_level >= 0 && *pos_level != level) return 0;
    *pos_level = level;
    double x = 0, y = 0;
    int n = 0;
    for (;;) {
      double v;
      if (!parse_number(c, &v)) return 0;
      if (n == 0) x = v;
      if (n == 1) y = v;
      n++;
      int next = after_member(c, ']');
      if (!next) return 0;
      if (next == 2) break;
    }
    if (n < 2) return 0;
    if (level == 0) {
      *lon = x;
      *lat = y;
      return 1;
    }
    if (!(x >= -180 && x <= 180 && y >= -90 && y <= 90)) return 0;
    double xy[2] = {x, y};
    return put(&s->coords, xy, 16);
  }
  if (ch != '[' || level >= max_level) return 0;
  size_t slot = s->parts.len;
  if (!put_u32(&s->parts, 0)) return 0;
  uint32_t count = 0;
  for (;;) {
    if (!parse_coords(s, c, level + 1, max_level, pos_level, lon, lat)) return 0;
    count++;
    int next = after_member(c, ']');
    if (!next) return 0;
    if (next == 2) break;
  }
  memcpy(s->parts.data + slot, &count, 4);
  return 1;
}

/** The kind of a geometry type name this scan takes (s->flags), or 0. */
static int geometry_kind(scan_t *s, const uint8_t *t, size_t n) {
#define IS(name) (n == sizeof name - 1 && memcmp(t, name, n) == 0)
  if (s->flags & 1 && IS("Point")) return KIND_POINT;
  if (!(s->flags & 2)) return 0;
  if (IS("LineString")) return KIND_LINESTRING;
  if (IS("MultiLineString")) return KIND_MULTILINESTRING;
  if (IS("Polygon")) return KIND_POLYGON;
  if (IS("MultiPolygon")) return KIND_MULTIPOLYGON;
  return 0;
#undef IS
}

/** The geometry: exactly {type, coordinates} in either order, of a kind the scan takes, coordinates nested as the
 * kind needs. A Point's position goes to lon/lat, a shape's to s->coords and s->parts. */
static int parse_geometry(scan_t *s, cur_t *c, int *kind, double *lon, double *lat) {
  if (c->p >= c->end || *c->p != '{') return 0;
  c->p++;
  ws(c);
  int have_coords = 0, pos_level = -1;
  *kind = 0;
  for (;;) {
    s->scratch.len = 0;
    if (!member_key(c, &s->scratch)) return 0;
    if (s->scratch.len == 4 && memcmp(s->scratch.data, "type", 4) == 0 && !*kind) {
      s->scratch.len = 0;
      if (!parse_string(c, &s->scratch)) return 0;
      *kind = geometry_kind(s, s->scratch.data, s->scratch.len);
      if (!*kind || (have_coords && pos_level != KIND_LEVEL[*kind])) return 0;
    } else if (s->scratch.len == 11 && memcmp(s->scratch.data, "coordinates", 11) == 0 && !have_coords) {
      int max_level = *kind ? KIND_LEVEL[*kind] : s->flags & 2 ? 3 : 0;
      if (!parse_coords(s, c, 0, max_level, &pos_level, lon, lat)) return 0;
      if (*kind && pos_level != KIND_LEVEL[*kind]) return 0;
      have_coords = 1;
    } else return 0;
    int next = after_member(c, '}');
    if (next != 1) return next == 2 && *kind && have_coords;
  }
}

/** A Feature line of a kind the scan takes: 1 with its parts, 0 to leave the line to JavaScript. */
static int parse_feature(scan_t *s, cur_t *c, int *kind, double *lon, double *lat, double *id, long *sig) {
  if (c->p >= c->end || *c->p != '{') return 0;
  c->p++;
  ws(c);
  int have_type = 0, have_geometry = 0, have_props = 0, have_id = 0;
  uint64_t count = 0;
  s->entries.len = 0;
  s->sig.len = 0;
  *id = NAN;
  if (c->p < c->end && *c->p == '}') return 0;
  for (;;) {
    s->scratch.len = 0;
    if (!member_key(c, &s->scratch)) return 0;
    const uint8_t *k = s->scratch.data;
    size_t kn = s->scratch.len;
    if (kn == 4 && memcmp(k, "type", 4) == 0) {
      if (have_type) return 0;
      s->scratch.len = 0;
      if (!parse_string(c, &s->scratch) || s->scratch.len != 7 || memcmp(s->scratch.data, "Feature", 7) != 0)
        return 0;
      have_type = 1;
    } else if (kn == 8 && memcmp(k, "geometry", 8) == 0) {
      if (have_geometry || !parse_geometry(s, c, kind, lon, lat)) return 0;
      have_geometry = 1;
    } else if (kn == 10 && memcmp(k, "properties", 10) == 0) {
      if (have_props || !parse_properties(s, c, &count)) return 0;
      have_props = 1;
    } else if (kn == 2 && memcmp(k, "id", 2) == 0) {
      if (have_id || c->p >= c->end) return 0;
      have_id = 1;
      if (*c->p == '"') {
        s->scratch.len = 0;
        if (!parse_string(c, &s->scratch)) return 0;
        /* an id string of 1 to 15 digits is that number (featureId in pipeline/profiles/geojson.ts) */
        if (s->scratch.len >= 1 && s->scratch.len <= 15 && is_digits(s->scratch.data, s->scratch.len)) {
          char tmp[16];
          memcpy(tmp, s->scratch.data, s->scratch.len);
          tmp[s->scratch.len] = 0;
          *id = strtod(tmp, NULL);
        }
      } else if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) {
        if (!parse_number(c, id)) return 0;
      } else return 0;
    } else {
      /* a foreign member: checked and passed over */
      if (!skip_value(c, &s->scratch, 1)) return 0;
    }
    int next = after_member(c, '}');
    if (!next) return 0;
    if (next == 2) break;
  }
  if (!have_type || !have_geometry) return 0;
  ws(c);
  if (c->p != c->end) return 0;
  *sig = signature_id(&s->sigs, s->sig.data ? s->sig.data : (const uint8_t *)"", s->sig.len);
  if (*sig < 0) return 0;
  return put_varint(&s->props, count) && put(&s->props, s->entries.data, s->entries.len);
}

/* ---- the Node-API functions ----------------------------------------------------------------------------------- */

static napi_value fail(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

typedef struct {
  double id;
  uint32_t index;   /* insertion order: ties keep it */
  uint32_t feature; /* whose tail ends the record */
} rec_t;

/* The records being written by writeRecords. A record is its head (type and geometry, in out) and then its
   feature's tail, which every record of the feature shares: kept once in tails and put after each head only when
   the sorted run is assembled. */
typedef struct {
  bytes_t out;      /* the records' heads in insertion order */
  bytes_t tails;    /* the features' tails, one after another */
  uint32_t *tail_starts; /* feature f's tail: tails[tail_starts[f] .. tail_starts[f + 1]) */
  size_t nfeatures, features_cap;
  size_t tails_len; /* the records' tails' length, all told */
  rec_t *recs, *sorted;
  uint32_t *starts; /* starts[i]: where record i's head (insertion order) begins in out */
  size_t n, cap;
} points_t;

/* A part (line or ring) of a shape being tiled: its points at d[off ..] of the buffer it lives in, and whether it
   is the first ring of a polygon (its exterior). */
typedef struct {
  size_t off;
  uint32_t n, exterior;
} part_t;

typedef struct {
  double *d;
  size_t len, cap;
} doubles_t;

typedef struct {
  part_t *p;
  size_t len, cap;
} parts_t;

/* The buffers of the shape tiler (writeRecords). */
typedef struct {
  doubles_t proj;  /* the shape's parts as triples x, y, importance (projectPath) */
  parts_t pparts;  /* their parts (off in proj) */
  doubles_t areas; /* |ringArea| of each of them */
  uint32_t *stack; /* Douglas–Peucker's */
  size_t stack_cap;
  doubles_t c;     /* the arena: simplified and clipped parts as x, y pairs, used as a stack */
  parts_t g;       /* the arena's parts (off in c) */
  doubles_t q;     /* one part quantised */
} shapes_t;

/* The buffers of both functions, kept from call to call by each thread that loads the addon (instance data): a
   chunk then goes into memory already mapped instead of fresh pages. */
typedef struct {
  scan_t s;
  double *items;
  size_t cap;
  points_t w;
  shapes_t sh;
} state_t;

static void free_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  state_t *st = data;
  scan_t *s = &st->s;
  free(s->props.data);
  free(s->entries.data);
  free(s->sig.data);
  free(s->keys.data);
  free(s->scratch.data);
  free(s->sigs.text.data);
  free(s->sigs.starts);
  free(s->coords.data);
  free(s->parts.data);
  free(st->items);
  free(st->w.out.data);
  free(st->w.tails.data);
  free(st->w.tail_starts);
  free(st->w.recs);
  free(st->w.sorted);
  free(st->w.starts);
  shapes_t *sh = &st->sh;
  free(sh->proj.d);
  free(sh->pparts.p);
  free(sh->areas.d);
  free(sh->stack);
  free(sh->c.d);
  free(sh->g.p);
  free(sh->q.d);
  free(st);
}

/** The data and length of a typed array argument of this type; 0 when it is something else. */
static int typed_arg(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  bool typed = false;
  napi_typedarray_type type;
  return napi_is_typedarray(env, value, &typed) == napi_ok && typed &&
         napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) == napi_ok && type == want;
}

static napi_value scan_points(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1)
    return fail(env, "ERR_INVALID_ARG", "scanPoints(chunk, flags) takes one or two arguments");
  size_t length;
  void *data;
  if (!typed_arg(env, argv[0], napi_uint8_array, &data, &length))
    return fail(env, "ERR_INVALID_ARG", "scanPoints: chunk must be a Uint8Array");
  uint32_t flags = 1;
  napi_valuetype flags_type = napi_undefined;
  if (argc > 1 && napi_typeof(env, argv[1], &flags_type) == napi_ok && flags_type != napi_undefined &&
      (napi_get_value_uint32(env, argv[1], &flags) != napi_ok || flags > 3))
    return fail(env, "ERR_INVALID_ARG", "scanPoints: flags must be 0 to 3");
  const uint8_t *bytes = data, *end = bytes + length;

  state_t *st;
  if (napi_get_instance_data(env, (void **)&st) != napi_ok || !st) return fail(env, NULL, "scanPoints: not initialised");
  scan_t *sp = &st->s;
  sp->props.len = 0;
  sp->coords.len = 0;
  sp->parts.len = 0;
  sp->flags = (int)flags;
  sp->sigs.text.len = 0;
  sp->sigs.count = 0;
  double *items = st->items;
  size_t nitems = 0, cap = st->cap;
  size_t line = 0;
  const uint8_t *p = bytes;
  int ok = 1;
  while (p < end && ok) {
    const uint8_t *nl = memchr(p, '\n', end - p);
    const uint8_t *e = nl ? nl : end;
    const uint8_t *q = p;
    while (q < e && (*q == 0x1e || *q <= 0x20)) q++; /* as forEachNdjson skips them */
    if (q < e) {
      if (nitems == cap) {
        cap = cap ? cap * 2 : 4096;
        double *bigger = realloc(items, cap * ITEM_SIZE * sizeof *items);
        if (!bigger) {
          ok = 0;
          break;
        }
        items = st->items = bigger;
        st->cap = cap;
      }
      double *it = items + nitems * ITEM_SIZE;
      cur_t c = {q, e};
      double lon = 0, lat = 0, id = NAN;
      long sig = 0;
      int kind = 0;
      size_t props_start = sp->props.len, coords_start = sp->coords.len, parts_start = sp->parts.len;
      if (flags && parse_feature(sp, &c, &kind, &lon, &lat, &id, &sig)) {
        it[0] = kind, it[1] = (double)line, it[4] = id;
        it[5] = (double)props_start, it[6] = (double)sp->props.len, it[7] = (double)sig;
        if (kind == KIND_POINT) it[2] = lon, it[3] = lat, it[8] = 0;
        else it[2] = (double)(coords_start / 16), it[3] = (double)(sp->coords.len / 16), it[8] = (double)(parts_start / 4);
      } else {
        sp->props.len = props_start;
        sp->coords.len = coords_start;
        sp->parts.len = parts_start;
        it[0] = 0, it[1] = (double)line, it[2] = (double)(p - bytes), it[3] = (double)(e - bytes);
        it[4] = it[5] = it[6] = it[7] = it[8] = 0;
      }
      nitems++;
    }
    line++;
    p = nl ? nl + 1 : end;
  }

  napi_value result = NULL, items_value, props_value, sigs_value, coords_value, parts_value, ab, coords_ab, parts_ab;
  void *abdata, *coords_data, *parts_data;
  if (!ok || napi_create_arraybuffer(env, nitems * ITEM_SIZE * sizeof(double), &abdata, &ab) != napi_ok ||
      napi_create_arraybuffer(env, sp->coords.len, &coords_data, &coords_ab) != napi_ok ||
      napi_create_arraybuffer(env, sp->parts.len, &parts_data, &parts_ab) != napi_ok) {
    return fail(env, "ERR_OUT_OF_MEMORY", "scanPoints: out of memory");
  }
  if (nitems) memcpy(abdata, items, nitems * ITEM_SIZE * sizeof(double));
  if (sp->coords.len) memcpy(coords_data, sp->coords.data, sp->coords.len);
  if (sp->parts.len) memcpy(parts_data, sp->parts.data, sp->parts.len);
  napi_create_typedarray(env, napi_float64_array, nitems * ITEM_SIZE, ab, 0, &items_value);
  napi_create_typedarray(env, napi_float64_array, sp->coords.len / 8, coords_ab, 0, &coords_value);
  napi_create_typedarray(env, napi_uint32_array, sp->parts.len / 4, parts_ab, 0, &parts_value);
  napi_create_buffer_copy(env, sp->props.len, sp->props.len ? (void *)sp->props.data : (void *)"", NULL, &props_value);
  napi_create_array_with_length(env, sp->sigs.count, &sigs_value);
  for (size_t i = 0; i < sp->sigs.count; i++) {
    size_t a = sp->sigs.starts[i], b = i + 1 < sp->sigs.count ? sp->sigs.starts[i + 1] : sp->sigs.text.len;
    napi_value list;
    napi_create_array(env, &list);
    uint32_t n = 0;
    for (size_t q = a; q < b;) {
      size_t len = strnlen((const char *)sp->sigs.text.data + q, b - q);
      napi_value str;
      napi_create_string_utf8(env, (const char *)sp->sigs.text.data + q, len, &str);
      napi_set_element(env, list, n++, str);
      q += len + 1;
    }
    napi_set_element(env, sigs_value, (uint32_t)i, list);
  }
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "items", items_value);
  napi_set_named_property(env, result, "props", props_value);
  napi_set_named_property(env, result, "signatures", sigs_value);
  napi_set_named_property(env, result, "coords", coords_value);
  napi_set_named_property(env, result, "parts", parts_value);
  return result;
}


/* ---- the records of scanned features -------------------------------------------------------------------------- */

#define POINT_SIZE 8
#define SHAPE_SIZE 14
#define ZOOM_SIZE 5

/** Math.round as V8 has it: the nearest integer, halves towards +∞ (0.49999999999999994 → 0, -0.3 → -0, and
 * x itself beyond 2^52). */
static __attribute__((noinline)) double js_round(double x) {
  double r = ceil(x);
  if (r - 0.5 > x) r -= 1.0;
  return r;
}

/**
 * js_round but for the sign of a zero (-0.3 → 0), for callers to whom -0 and 0 are the same (they compare,
 * subtract or convert to an integer), without the two unpredictable branches of ceil and the halves test: below
 * 2^52, t = floor(x) and x - t are exact (Sterbenz; x + 1 for x in (-0.5, 0) rounds to at most 1, still ≥ 0.5), and
 * x rounds up exactly when x - t ≥ 0.5.
 */
static inline double js_round_unsigned_zero(double x) {
  if (!(fabs(x) < 4503599627370496.0)) return js_round(x); /* beyond 2^52, ±∞ and NaN */
  double t = (double)(int64_t)x;
  t -= (double)(t > x);
  return t + (double)(x - t >= 0.5);
}

/** to_int32 beyond the int32 range (rare): kept out of line so that the common case inlines. */
static __attribute__((noinline)) int32_t to_int32_slow(double d) {
  if (!isfinite(d)) return 0;
  double m = fmod(trunc(d), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return (int32_t)(uint32_t)m;
}

/** JavaScript's ToInt32 (what `v << 1` and `v >> 31` do to a number first). */
static inline int32_t to_int32(double d) {
  if (d >= -2147483648.0 && d <= 2147483647.0) return (int32_t)d;
  return to_int32_slow(d);
}

/** The zigzag of a tile coordinate delta, as pipeline/mvt/encode.ts computes it: ((v << 1) ^ (v >> 31)) >>> 0. */
static inline uint32_t zigzag(double v) {
  int32_t i = to_int32(v);
  return ((uint32_t)i << 1) ^ (uint32_t)(i >> 31);
}

/*
 * The Hilbert curve three levels at a time. The bit-by-bit walk of pipeline/pmtiles/tileid.ts only ever swaps x
 * and y and complements both below the current bit, and those two commute, so its state is two bits (1: swapped,
 * 2: complemented). HILBERT3[state << 6 | x's next three bits << 3 | y's] holds the six bits
 * of d those levels add (<< 2) and the state after them (low two bits).
 */
static const uint8_t HILBERT3[256] = {
    0x01, 0x04, 0x3a, 0x3d, 0x40, 0x4e, 0x51, 0x54, 0x0f, 0x08, 0x36, 0x33, 0x45, 0x49, 0x5f, 0x58,
    0x10, 0x1e, 0x20, 0x2e, 0x7b, 0x77, 0x61, 0x64, 0x15, 0x19, 0x25, 0x29, 0x7c, 0x72, 0x6f, 0x68,
    0xeb, 0xe7, 0xdb, 0xd7, 0x80, 0x8e, 0x91, 0x94, 0xec, 0xe2, 0xdc, 0xd2, 0x85, 0x89, 0x9f, 0x98,
    0xf1, 0xf4, 0xca, 0xcd, 0xbb, 0xb7, 0xa1, 0xa4, 0xff, 0xf8, 0xc6, 0xc3, 0xbc, 0xb2, 0xaf, 0xa8,
    0x00, 0x0e, 0x11, 0x14, 0xea, 0xed, 0xf0, 0xfe, 0x05, 0x09, 0x1f, 0x18, 0xe6, 0xe3, 0xf5, 0xf9,
    0x3b, 0x37, 0x21, 0x24, 0xda, 0xdd, 0xcb, 0xc7, 0x3c, 0x32, 0x2f, 0x28, 0xd6, 0xd3, 0xcc, 0xc2,
    0x41, 0x44, 0x7a, 0x7d, 0x81, 0x84, 0xba, 0xbd, 0x4f, 0x48, 0x76, 0x73, 0x8f, 0x88, 0xb6, 0xb3,
    0x50, 0x5e, 0x60, 0x6e, 0x90, 0x9e, 0xa0, 0xae, 0x55, 0x59, 0x65, 0x69, 0x95, 0x99, 0xa5, 0xa9,
    0xaa, 0xad, 0xb0, 0xbe, 0xc1, 0xc4, 0xfa, 0xfd, 0xa6, 0xa3, 0xb5, 0xb9, 0xcf, 0xc8, 0xf6, 0xf3,
    0x9a, 0x9d, 0x8b, 0x87, 0xd0, 0xde, 0xe0, 0xee, 0x96, 0x93, 0x8c, 0x82, 0xd5, 0xd9, 0xe5, 0xe9,
    0x6a, 0x6d, 0x70, 0x7e, 0x2b, 0x27, 0x1b, 0x17, 0x66, 0x63, 0x75, 0x79, 0x2c, 0x22, 0x1c, 0x12,
    0x5a, 0x5d, 0x4b, 0x47, 0x31, 0x34, 0x0a, 0x0d, 0x56, 0x53, 0x4c, 0x42, 0x3f, 0x38, 0x06, 0x03,
    0xab, 0xa7, 0x9b, 0x97, 0x6b, 0x67, 0x5b, 0x57, 0xac, 0xa2, 0x9c, 0x92, 0x6c, 0x62, 0x5c, 0x52,
    0xb1, 0xb4, 0x8a, 0x8d, 0x71, 0x74, 0x4a, 0x4d, 0xbf, 0xb8, 0x86, 0x83, 0x7f, 0x78, 0x46, 0x43,
    0xc0, 0xce, 0xd1, 0xd4, 0x2a, 0x2d, 0x30, 0x3e, 0xc5, 0xc9, 0xdf, 0xd8, 0x26, 0x23, 0x35, 0x39,
    0xfb, 0xf7, 0xe1, 0xe4, 0x1a, 0x1d, 0x0b, 0x07, 0xfc, 0xf2, 0xef, 0xe8, 0x16, 0x13, 0x0c, 0x02,
};

/** The PMTiles tile id of z/x/y (pipeline/pmtiles/tileid.ts), z ≤ 26. */
static double tile_id(int z, uint32_t x, uint32_t y) {
  /* z is padded to a multiple of three with high zero bits; each padding level swaps x and y (and adds nothing to
     d), so the walk starts in the state that leaves it unswapped after them */
  int pad = (3 - z % 3) % 3, shift = z + pad;
  uint32_t state = (uint32_t)pad & 1;
  uint64_t d = 0;
  while (shift > 0) {
    shift -= 3;
    uint8_t e = HILBERT3[state << 6 | ((x >> shift) & 7) << 3 | ((y >> shift) & 7)];
    d = d << 6 | e >> 2;
    state = e & 3;
  }
  return (double)(((1ULL << 2 * z) - 1) / 3 + d); /* the ids of the zooms below: (4^z - 1) / 3 */
}

static int by_tile(const void *a, const void *b) {
  const rec_t *ra = a, *rb = b;
  if (ra->id != rb->id) return ra->id < rb->id ? -1 : 1;
  return ra->index < rb->index ? -1 : ra->index > rb->index;
}

/**
 * Sorts recs[0 .. n) by tile id, stably, into sorted: a least-significant-digit radix sort on 11-bit digits when
 * every id is below 2^33 (zoom ≤ 15), qsort by (id, insertion order) above. Returns the sorted array.
 */
static rec_t *sort_records(points_t *w) {
  size_t n = w->n;
  double max = 0;
  for (size_t i = 0; i < n; i++)
    if (w->recs[i].id > max) max = w->recs[i].id;
  if (max >= 8589934592.0) {
    qsort(w->recs, n, sizeof *w->recs, by_tile);
    return w->recs;
  }
  rec_t *from = w->recs, *to = w->sorted;
  uint64_t top = (uint64_t)max;
  for (int shift = 0; shift < 33 && (top >> shift) > 0; shift += 11) {
    size_t counts[2048] = {0};
    for (size_t i = 0; i < n; i++) counts[((uint64_t)from[i].id >> shift) & 2047]++;
    size_t sum = 0;
    for (int d = 0; d < 2048; d++) {
      size_t c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) to[counts[((uint64_t)from[i].id >> shift) & 2047]++] = from[i];
    rec_t *t = from;
    from = to;
    to = t;
  }
  return from;
}

/** A record in tile `id` of the current feature, its head at out[start ..] (up to the next record's start). */
static int new_record(points_t *w, double id, size_t start) {
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 4096;
    rec_t *r = realloc(w->recs, cap * sizeof *r);
    if (!r) return 0;
    w->recs = r;
    r = realloc(w->sorted, cap * sizeof *r);
    if (!r) return 0;
    w->sorted = r;
    uint32_t *st = realloc(w->starts, (cap + 1) * sizeof *st);
    if (!st) return 0;
    w->starts = st;
    w->cap = cap;
  }
  uint32_t f = (uint32_t)w->nfeatures - 1;
  w->recs[w->n].id = id;
  w->recs[w->n].index = (uint32_t)w->n;
  w->recs[w->n].feature = f;
  w->starts[w->n] = (uint32_t)start;
  w->n++;
  w->tails_len += w->tail_starts[f + 1] - w->tail_starts[f];
  return 1;
}

/** The next feature's tail, as RecordWriter.feature writes it (the properties encoded already): seq, flags, id,
 * layer, properties. */
static int make_tail(points_t *w, double seq, double id, const uint8_t *layer, size_t layer_len, const uint8_t *props,
                     size_t props_len) {
  if (w->nfeatures + 2 > w->features_cap) {
    size_t cap = w->features_cap ? w->features_cap * 2 : 4096;
    uint32_t *ts = realloc(w->tail_starts, cap * sizeof *ts);
    if (!ts) return 0;
    w->tail_starts = ts;
    w->features_cap = cap;
  }
  if (!w->nfeatures) w->tail_starts[0] = 0;
  if (!grow(&w->tails, 10 + 1 + 8 + 10 + layer_len + 10 + props_len)) return 0;
  uint8_t *p = write_varint(w->tails.data + w->tails.len, (uint64_t)seq);
  uint8_t flags = isnan(id) ? 0 : 1;
  *p++ = flags;
  if (flags) {
    memcpy(p, &id, 8);
    p += 8;
  }
  p = write_varint(p, layer_len);
  if (layer_len) memcpy(p, layer, layer_len);
  p = write_varint(p + layer_len, props_len);
  if (props_len) memcpy(p, props, props_len);
  w->tails.len = (size_t)(p + props_len - w->tails.data);
  w->tail_starts[++w->nfeatures] = (uint32_t)w->tails.len;
  return 1;
}

static int add_point_record(points_t *w, double id, uint32_t zx, uint32_t zy) {
  /* [type 1][geometry length][MoveTo(1)][zx][zy], then the tail (RecordWriter.addPoint) */
  if (!grow(&w->out, 3 + 5 + 5)) return 0;
  size_t start = w->out.len;
  uint8_t *p = w->out.data + start;
  p[0] = 1;
  p[1] = (uint8_t)(1 + varint_size(zx) + varint_size(zy));
  p[2] = 9;
  p = write_varint(write_varint(p + 3, zx), zy);
  w->out.len = (size_t)(p - w->out.data);
  return new_record(w, id, start);
}

/** One point's records (Mapper.addPoint): the tiles of zmin..zmax whose buffered area holds it, within ranges. */
static int point_records(points_t *w, const double *pt, const int32_t *ranges, double extent, double buf) {
  double wx = pt[0], wy = pt[1];
  int zmin = (int)pt[2], zmax = (int)pt[3];
  for (int z = zmin; z <= zmax; z++) {
    double n = ldexp(1.0, z);
    double tx = wx * n, ty = wy * n;
    double x0 = fmax(0, floor(tx - buf)), x1 = fmin(n - 1, floor(tx + buf));
    double y0 = fmax(0, floor(ty - buf)), y1 = fmin(n - 1, floor(ty + buf));
    const int32_t *r = ranges + 4 * z;
    for (double x = x0; x <= x1; x++) {
      int32_t qx = (int32_t)js_round_unsigned_zero((tx - x) * extent);
      for (double y = y0; y <= y1; y++) {
        if (x < r[0] || x > r[2] || y < r[1] || y > r[3]) continue;
        int32_t qy = (int32_t)js_round_unsigned_zero((ty - y) * extent);
        uint32_t zx = ((uint32_t)qx << 1) ^ (uint32_t)(qx >> 31);
        uint32_t zy = ((uint32_t)qy << 1) ^ (uint32_t)(qy >> 31);
        if (!add_point_record(w, tile_id(z, (uint32_t)x, (uint32_t)y), zx, zy)) return 0;
      }
    }
  }
  return 1;
}

/* ---- shapes: pipeline/tiler/tile-feature.ts, simplify.ts, clip.ts and encodeGeometry, step for step ----------- */

static int room_doubles(doubles_t *v, size_t n) {
  if (v->len + n <= v->cap) return 1;
  size_t cap = v->cap ? v->cap * 2 : 4096;
  while (cap < v->len + n) cap *= 2;
  double *d = realloc(v->d, cap * sizeof *d);
  if (!d) return 0;
  v->d = d;
  v->cap = cap;
  return 1;
}

static int room_parts(parts_t *v, size_t n) {
  if (v->len + n <= v->cap) return 1;
  size_t cap = v->cap ? v->cap * 2 : 256;
  while (cap < v->len + n) cap *= 2;
  part_t *p = realloc(v->p, cap * sizeof *p);
  if (!p) return 0;
  v->p = p;
  v->cap = cap;
  return 1;
}

/** The caller has made room. */
static void add_part(parts_t *v, size_t off, uint32_t n, uint32_t exterior) {
  part_t *p = &v->p[v->len++];
  p->off = off;
  p->n = n;
  p->exterior = exterior;
}

/** sqSegDist (simplify.ts): the squared distance of p from the segment. */
static double sq_seg_dist(double px, double py, double x, double y, double bx, double by) {
  double dx = bx - x;
  double dy = by - y;
  if (dx != 0 || dy != 0) {
    double t = ((px - x) * dx + (py - y) * dy) / (dx * dx + dy * dy);
    if (t > 1) {
      x = bx;
      y = by;
    } else if (t > 0) {
      x += dx * t;
      y += dy * t;
    }
  }
  dx = px - x;
  dy = py - y;
  return dx * dx + dy * dy;
}

/** computeImportance (simplify.ts): the importance slot of the triples first..last, iterative Douglas–Peucker. */
static int importance(shapes_t *t, double *co, uint32_t first, uint32_t last) {
  co[first * 3 + 2] = 1;
  co[last * 3 + 2] = 1;
  size_t sp = 0;
  if (t->stack_cap < 4) {
    uint32_t *s = realloc(t->stack, 256 * sizeof *s);
    if (!s) return 0;
    t->stack = s;
    t->stack_cap = 256;
  }
  t->stack[sp++] = first;
  t->stack[sp++] = last;
  while (sp) {
    uint32_t b = t->stack[--sp];
    uint32_t a = t->stack[--sp];
    if (b - a < 2) continue;
    double max_sq = -1;
    uint32_t index = a;
    double ax = co[a * 3], ay = co[a * 3 + 1], bx = co[b * 3], by = co[b * 3 + 1];
    for (uint32_t i = a + 1; i < b; i++) {
      double d = sq_seg_dist(co[i * 3], co[i * 3 + 1], ax, ay, bx, by);
      if (d > max_sq) {
        max_sq = d;
        index = i;
      }
    }
    co[index * 3 + 2] = max_sq;
    if (sp + 4 > t->stack_cap) {
      uint32_t *s = realloc(t->stack, 2 * t->stack_cap * sizeof *s);
      if (!s) return 0;
      t->stack = s;
      t->stack_cap *= 2;
    }
    t->stack[sp++] = a;
    t->stack[sp++] = index;
    t->stack[sp++] = index;
    t->stack[sp++] = b;
  }
  return 1;
}

/** ringArea (simplify.ts) of n triples. */
static double ring_area(const double *co, uint32_t n) {
  double sum = 0;
  size_t len = (size_t)n * 3;
  for (size_t i = 0, j = len - 3; i < len; j = i, i += 3) sum += (co[j] - co[i]) * (co[i + 1] + co[j + 1]);
  return sum / 2;
}

/** projectPath (tile-feature.ts) of n projected positions xy: triples with importance, a ring closed. */
static int project_part(shapes_t *t, const double *xy, uint32_t n, int closed, uint32_t exterior) {
  if (!room_doubles(&t->proj, 3 * ((size_t)n + 1)) || !room_parts(&t->pparts, 1) || !room_doubles(&t->areas, 1))
    return 0;
  size_t off = t->proj.len;
  double *o = t->proj.d + off;
  size_t k = 0;
  for (uint32_t i = 0; i < n; i++) {
    o[k++] = xy[2 * i];
    o[k++] = xy[2 * i + 1];
    o[k++] = 0;
  }
  size_t len = k;
  if (closed && k >= 3 && (o[0] != o[k - 3] || o[1] != o[k - 2])) {
    o[len++] = o[0];
    o[len++] = o[1];
    o[len++] = 0;
  }
  if (k >= 6) {
    if (!importance(t, o, 0, (uint32_t)(len / 3 - 1))) return 0;
  } else if (k == 3) o[2] = 1;
  t->proj.len += len;
  t->areas.d[t->areas.len++] = closed ? fabs(ring_area(o, (uint32_t)(len / 3))) : 0;
  add_part(&t->pparts, off, (uint32_t)(len / 3), exterior);
  return 1;
}

/**
 * The shape's projected parts (projectGeometry): its structure parts[ps ..] read for its kind, its positions
 * xy[0 .. 2 * count). 0 when the structure does not fit (or memory ran out).
 */
static int project_shape(shapes_t *t, int kind, const uint32_t *parts, size_t nparts, size_t ps, const double *xy,
                         size_t count) {
  t->proj.len = t->pparts.len = t->areas.len = 0;
  size_t at = ps, used = 0;
#define NEXT(v)                         \
  do {                                  \
    if (at >= nparts) return 0;         \
    (v) = parts[at++];                  \
    if (!(v)) return 0;                 \
  } while (0)
#define PART(closed, exterior)                                                        \
  do {                                                                                \
    uint32_t len_;                                                                    \
    NEXT(len_);                                                                       \
    if (len_ > count - used) return 0;                                                \
    if (!project_part(t, xy + 2 * used, len_, closed, exterior)) return 0;            \
    used += len_;                                                                     \
  } while (0)
  uint32_t outer, inner;
  switch (kind) {
    case KIND_LINESTRING: /* its one count is the line's */
      PART(0, 0);
      break;
    case KIND_MULTILINESTRING:
      NEXT(outer);
      for (uint32_t i = 0; i < outer; i++) PART(0, 0);
      break;
    case KIND_POLYGON:
      NEXT(outer);
      for (uint32_t i = 0; i < outer; i++) PART(1, i == 0);
      break;
    case KIND_MULTIPOLYGON:
      NEXT(outer);
      for (uint32_t p = 0; p < outer; p++) {
        NEXT(inner);
        for (uint32_t i = 0; i < inner; i++) PART(1, i == 0);
      }
      break;
    default: return 0;
  }
#undef PART
#undef NEXT
  return used == count;
}

/** simplify (tile-feature.ts) at squared tolerance sq_tol into the arena: returns whether anything is left. */
static int simplify_shape(shapes_t *t, int poly, double sq_tol, double min_area, int *left) {
  size_t need = 0;
  for (size_t i = 0; i < t->pparts.len; i++) need += 2 * (size_t)t->pparts.p[i].n;
  if (!room_doubles(&t->c, need) || !room_parts(&t->g, t->pparts.len)) return 0;
  int dropping = 0;
  for (size_t i = 0; i < t->pparts.len; i++) {
    const part_t pp = t->pparts.p[i];
    if (poly) {
      if (pp.exterior) dropping = 0;
      else if (dropping) continue;
      /* a whole ring smaller than the tiny-area cut disappears; without its exterior, the polygon */
      if (min_area > 0 && t->areas.d[i] < min_area) {
        if (pp.exterior) dropping = 1;
        continue;
      }
    }
    const double *co = t->proj.d + pp.off;
    size_t off = t->c.len;
    double *o = t->c.d + off;
    uint32_t m = 0;
    for (uint32_t k = 0; k < pp.n; k++) {
      if (co[3 * k + 2] > sq_tol) {
        o[2 * m] = co[3 * k];
        o[2 * m + 1] = co[3 * k + 1];
        m++;
      }
    }
    if (poly ? m < 4 : m < 2) {
      if (poly && pp.exterior) dropping = 1;
      continue;
    }
    t->c.len += 2 * (size_t)m;
    add_part(&t->g, off, m, pp.exterior);
  }
  *left = t->g.len > 0;
  return 1;
}

/** intersect (clip.ts); the caller has made room. */
static void intersect(double *o, size_t *len, double ax, double ay, double bx, double by, double k, int axis) {
  if (axis == 0) {
    double t = (k - ax) / (bx - ax);
    o[(*len)++] = k;
    o[(*len)++] = ay + (by - ay) * t;
  } else {
    double t = (k - ay) / (by - ay);
    o[(*len)++] = ax + (bx - ax) * t;
    o[(*len)++] = k;
  }
}

/** clipLine (clip.ts) of the arena's part `in`: its pieces of two points or more become parts. Room made. */
static void clip_line(shapes_t *t, part_t in, double k1, double k2, int axis) {
  double *o = t->c.d;
  const double *l = o + in.off;
  size_t nn = 2 * (size_t)in.n;
  size_t start = t->c.len, len = start;
  for (size_t i = 0; i + 2 < nn; i += 2) {
    double ax = l[i], ay = l[i + 1], bx = l[i + 2], by = l[i + 3];
    double a = axis == 0 ? ax : ay;
    double b = axis == 0 ? bx : by;
    int exited = 0;
    if (a < k1) {
      if (b > k1) intersect(o, &len, ax, ay, bx, by, k1, axis);
    } else if (a > k2) {
      if (b < k2) intersect(o, &len, ax, ay, bx, by, k2, axis);
    } else {
      o[len++] = ax;
      o[len++] = ay;
    }
    if (b < k1 && a >= k1) {
      intersect(o, &len, ax, ay, bx, by, k1, axis);
      exited = 1;
    }
    if (b > k2 && a <= k2) {
      intersect(o, &len, ax, ay, bx, by, k2, axis);
      exited = 1;
    }
    if (exited) {
      if (len - start >= 4) {
        add_part(&t->g, start, (uint32_t)((len - start) / 2), 0);
        start = len;
      } else len = start;
    }
  }
  if (nn >= 2) {
    double lx = l[nn - 2], ly = l[nn - 1];
    double v = axis == 0 ? lx : ly;
    if (v >= k1 && v <= k2) {
      o[len++] = lx;
      o[len++] = ly;
    }
  }
  if (len - start >= 4) {
    add_part(&t->g, start, (uint32_t)((len - start) / 2), 0);
    start = len;
  }
  t->c.len = start;
}

/** clipRing (clip.ts) of the arena's part `in`: the number of points of the closed clipped ring appended to the
 * arena, or 0 (nothing appended). Room made. */
static uint32_t clip_ring(shapes_t *t, part_t in, double k1, double k2, int axis) {
  double *o = t->c.d;
  const double *r = o + in.off;
  size_t nn = 2 * (size_t)in.n;
  size_t start = t->c.len, len = start;
  for (size_t i = 0; i + 2 < nn; i += 2) {
    double ax = r[i], ay = r[i + 1], bx = r[i + 2], by = r[i + 3];
    double a = axis == 0 ? ax : ay;
    double b = axis == 0 ? bx : by;
    if (a < k1) {
      if (b > k1) intersect(o, &len, ax, ay, bx, by, k1, axis);
    } else if (a > k2) {
      if (b < k2) intersect(o, &len, ax, ay, bx, by, k2, axis);
    } else {
      o[len++] = ax;
      o[len++] = ay;
    }
    if (b < k1 && a >= k1) intersect(o, &len, ax, ay, bx, by, k1, axis);
    if (b > k2 && a <= k2) intersect(o, &len, ax, ay, bx, by, k2, axis);
  }
  if (len - start < 6) return 0;
  if (o[start] != o[len - 2] || o[start + 1] != o[len - 1]) {
    o[len] = o[start];
    o[len + 1] = o[start + 1];
    len += 2;
  }
  t->c.len = len;
  return (uint32_t)((len - start) / 2);
}

/** clipGroups (tile-feature.ts) of the arena's parts p0..p1 to the strip k1..k2: the result's parts are appended
 * (a polygon whose exterior vanishes goes with its holes). */
static int clip_group(shapes_t *t, int poly, size_t p0, size_t p1, double k1, double k2, int axis) {
  size_t need = 0, parts = 0;
  for (size_t i = p0; i < p1; i++) {
    need += 2 * (2 * (size_t)t->g.p[i].n + 2);
    parts += t->g.p[i].n;
  }
  if (!room_doubles(&t->c, need) || !room_parts(&t->g, parts)) return 0;
  int skip = 0;
  for (size_t i = p0; i < p1; i++) {
    const part_t in = t->g.p[i];
    if (!poly) {
      clip_line(t, in, k1, k2, axis);
      continue;
    }
    if (in.exterior) skip = 0;
    else if (skip) continue;
    size_t off = t->c.len;
    uint32_t m = clip_ring(t, in, k1, k2, axis);
    if (!m) {
      if (in.exterior) skip = 1;
      continue;
    }
    add_part(&t->g, off, m, in.exterior);
  }
  return 1;
}

/* One zoom of one shape. */
typedef struct {
  int poly;          /* polygons (else lines) */
  int z;
  double n, extent, buf;
  const int32_t *r;  /* the tiles written at z: x0, y0, x1, y1 */
  points_t *w;
} zoom_t;

/** pushPath (encode.ts): the m points of t->q as MoveTo + LineTo(m - 1) [+ ClosePath], maybe in reverse ring
 * order, their command integers written as varints at o (room made: 10 bytes a point and 16 more); the cursor
 * moves along. Returns the byte after them. */
static uint8_t *push_path(const shapes_t *t, uint8_t *o, uint32_t m, int reverse, int close, double *cx, double *cy) {
  const double *q = t->q.d;
  *o++ = 9;
  o = write_varint(o, zigzag(q[0] - *cx));
  o = write_varint(o, zigzag(q[1] - *cy));
  double px = q[0], py = q[1];
  o = write_varint(o, (uint64_t)(m - 1) * 8 + 2);
  for (uint32_t k = 1; k < m; k++) {
    uint32_t i = reverse ? m - k : k;
    double x = q[2 * i], y = q[2 * i + 1];
    o = write_varint(o, zigzag(x - px));
    o = write_varint(o, zigzag(y - py));
    px = x;
    py = y;
  }
  *cx = px;
  *cy = py;
  if (close) *o++ = 15;
  return o;
}

/** The record of the arena's parts p0..p1 in tile x, y (the emit of tileAtZoom in Mapper.add): quantise, then
 * encodeGeometry (rounded points without consecutive repeats, rings oriented by role, degenerate ones dropped).
 * The commands go straight into the record, after room for a one-byte geometry length (moved on when longer). */
static int emit(shapes_t *t, const zoom_t *zc, size_t p0, size_t p1, int x, int y) {
  const int32_t *r = zc->r;
  if (x < r[0] || x > r[2] || y < r[1] || y > r[3]) return 1;
  bytes_t *out = &zc->w->out;
  if (!grow(out, 2)) return 0;
  const size_t head = out->len, geom = head + 2;
  out->len = geom;
  double cx = 0, cy = 0;
  const double n = zc->n, extent = zc->extent, dx = x, dy = y;
  int skip = 0;
  for (size_t i = p0; i < p1; i++) {
    const part_t pp = t->g.p[i];
    if (zc->poly) {
      if (pp.exterior) skip = 0;
      else if (skip) continue;
    }
    uint32_t len = zc->poly ? pp.n - 1 : pp.n; /* a ring's closing point is left out */
    t->q.len = 0;
    if (!room_doubles(&t->q, 2 * (size_t)len)) return 0;
    const double *co = t->c.d + pp.off;
    double *q = t->q.d;
    uint32_t m = 0;
    double px = NAN, py = NAN;
    for (uint32_t k = 0; k < len; k++) {
      double qx = js_round_unsigned_zero((co[2 * k] * n - dx) * extent);
      double qy = js_round_unsigned_zero((co[2 * k + 1] * n - dy) * extent);
      if (qx == px && qy == py) continue;
      q[2 * m] = px = qx;
      q[2 * m + 1] = py = qy;
      m++;
    }
    int reverse = 0;
    if (!zc->poly) {
      if (m < 2) continue;
    } else {
      while (m > 1 && q[2 * m - 2] == q[0] && q[2 * m - 1] == q[1]) m--;
      double area2 = 0;
      if (m >= 3) {
        double x0 = q[2 * m - 2], y0 = q[2 * m - 1];
        for (uint32_t k = 0; k < m; k++) {
          double x1 = q[2 * k], y1 = q[2 * k + 1];
          area2 += x0 * y1 - x1 * y0;
          x0 = x1;
          y0 = y1;
        }
      }
      if (area2 == 0) {
        if (pp.exterior) skip = 1; /* a degenerate exterior drops the polygon with its holes */
        continue;
      }
      reverse = pp.exterior ? area2 < 0 : area2 > 0;
    }
    if (!grow(out, 10 * (size_t)m + 16)) return 0;
    out->len = (size_t)(push_path(t, out->data + out->len, m, reverse, zc->poly, &cx, &cy) - out->data);
  }
  size_t glen = out->len - geom;
  if (!glen) {
    out->len = head;
    return 1;
  }
  size_t more = varint_size(glen) - 1;
  if (more) {
    if (!grow(out, more)) return 0;
    memmove(out->data + geom + more, out->data + geom, glen);
    out->len += more;
  }
  out->data[head] = zc->poly ? 3 : 2;
  write_varint(out->data + head + 1, glen);
  return new_record(zc->w, tile_id(zc->z, (uint32_t)x, (uint32_t)y), head);
}

/** split (tileAtZoom): the tile range ax..bx × ay..by halved, clipping as it goes. Rectangles without a tile that
 * is written are passed over (they would write nothing). */
static int split(shapes_t *t, const zoom_t *zc, size_t p0, size_t p1, int ax, int ay, int bx, int by) {
  if (ax == bx && ay == by) return emit(t, zc, p0, p1, ax, ay);
  const int32_t *r = zc->r;
  if (bx < r[0] || ax > r[2] || by < r[1] || ay > r[3]) return 1;
  const size_t c_top = t->c.len, g_top = t->g.len;
  const double n = zc->n, buf = zc->buf;
  if (bx - ax >= by - ay) {
    int mid = (ax + bx + 1) >> 1;
    if (!clip_group(t, zc->poly, p0, p1, (ax - buf) / n, (mid + buf) / n, 0)) return 0;
    if (t->g.len > g_top && !split(t, zc, g_top, t->g.len, ax, ay, mid - 1, by)) return 0;
    t->c.len = c_top;
    t->g.len = g_top;
    if (!clip_group(t, zc->poly, p0, p1, (mid - buf) / n, ((double)bx + 1 + buf) / n, 0)) return 0;
    if (t->g.len > g_top && !split(t, zc, g_top, t->g.len, mid, ay, bx, by)) return 0;
  } else {
    int mid = (ay + by + 1) >> 1;
    if (!clip_group(t, zc->poly, p0, p1, (ay - buf) / n, (mid + buf) / n, 1)) return 0;
    if (t->g.len > g_top && !split(t, zc, g_top, t->g.len, ax, ay, bx, mid - 1)) return 0;
    t->c.len = c_top;
    t->g.len = g_top;
    if (!clip_group(t, zc->poly, p0, p1, (mid - buf) / n, ((double)by + 1 + buf) / n, 1)) return 0;
    if (t->g.len > g_top && !split(t, zc, g_top, t->g.len, ax, mid, bx, by)) return 0;
  }
  t->c.len = c_top;
  t->g.len = g_top;
  return 1;
}

/**
 * One shape's records (Mapper.add for a projected geometry, tileAtZoom per zoom). sh: its SHAPE_SIZE numbers;
 * zooms: per zoom [n, sqTol, pixel, minArea, atMax] as tileAtZoom computes them. 0: out of memory or a shape that
 * does not fit its arrays.
 */
static int shape_records(shapes_t *t, points_t *w, const double *sh, const double *coords, size_t ncoords,
                         const uint32_t *parts, size_t nparts, const int32_t *ranges, const double *zooms,
                         double extent, double buf) {
  int kind = (int)sh[0], zmin = (int)sh[1], zmax = (int)sh[2];
  double cs = sh[7], ce = sh[8], ps = sh[9];
  if (!(cs >= 0 && cs <= ce && ce <= (double)ncoords && ps >= 0 && ps < (double)nparts)) return 0;
  int poly = kind == KIND_POLYGON || kind == KIND_MULTIPOLYGON;
  if (!project_shape(t, kind, parts, nparts, (size_t)ps, coords + 2 * (size_t)cs, (size_t)(ce - cs))) return 0;
  const double min_x = sh[10], min_y = sh[11], max_x = sh[12], max_y = sh[13];
  zoom_t zc = {poly, 0, 0, extent, buf, NULL, w};
  for (int z = zmin; z <= zmax; z++) {
    const double *zp = zooms + ZOOM_SIZE * z;
    const double n = zp[0], sq_tol = zp[1], pixel = zp[2], min_area = zp[3];
    const int at_max = zp[4] != 0;
    /* below the maximum zoom, lines and polygons smaller than one pixel are dropped */
    if (!at_max && max_x - min_x < pixel && max_y - min_y < pixel) continue;
    double v;
#define CLAMP(e) (v = (e), v < 0 ? 0 : v > n - 1 ? n - 1 : v)
    const int x0 = (int)CLAMP(floor((min_x - buf / n) * n)), x1 = (int)CLAMP(floor((max_x + buf / n) * n));
    const int y0 = (int)CLAMP(floor((min_y - buf / n) * n)), y1 = (int)CLAMP(floor((max_y + buf / n) * n));
#undef CLAMP
    const int32_t *r = ranges + 4 * z;
    if (x1 < r[0] || x0 > r[2] || y1 < r[1] || y0 > r[3]) continue; /* no tile of it is written */
    zc.z = z;
    zc.n = n;
    zc.r = r;
    t->c.len = t->g.len = 0;
    int left;
    if (!simplify_shape(t, poly, sq_tol, poly ? min_area : 0, &left)) return 0;
    if (!left) continue;
    if (x0 == x1 && y0 == y1) {
      if (!emit(t, &zc, 0, t->g.len, x0, y0)) return 0;
      continue;
    }
    /* the outermost clip trims what lies beyond the covered range (e.g. past the grid's edges) */
    size_t g1 = t->g.len;
    if (!clip_group(t, poly, 0, g1, (x0 - buf) / n, ((double)x1 + 1 + buf) / n, 0)) return 0;
    size_t g2 = t->g.len;
    if (g2 == g1) continue;
    if (!clip_group(t, poly, g1, g2, (y0 - buf) / n, ((double)y1 + 1 + buf) / n, 1)) return 0;
    if (t->g.len == g2) continue;
    if (!split(t, &zc, g2, t->g.len, x0, y0, x1, y1)) return 0;
  }
  return 1;
}

/**
 * writeRecords(points: Float64Array, shapes: Float64Array, coords: Float64Array, parts: Uint32Array,
 *              props: Uint8Array, layer: Uint8Array, ranges: Int32Array, zooms: Float64Array, extent, buffer)
 *   → { bytes: Uint8Array, tileIds: Float64Array, offsets: Uint32Array }
 * The records of scanned features, byte for byte as the JavaScript map stage (Mapper.add / addPoint, tileAtZoom,
 * encodeGeometry, RecordWriter.feature / add / addPoint) writes them, as one run sorted by tile id (insertion order
 * kept within a tile), like sortRun's: first the points, then the shapes.
 * points holds POINT_SIZE numbers per point: [wx, wy, zmin, zmax, seq, id (NaN: none), propsStart, propsEnd]: its
 * world coordinates, the zooms it is written at, its sequence number and id, and its encoded properties in props.
 * shapes holds SHAPE_SIZE numbers per shape: [kind, zmin, zmax, seq, id, propsStart, propsEnd, coordStart,
 * coordEnd, partsStart, minX, minY, maxX, maxY]: as the scan gave them, its zooms and sequence number, and the
 * bounds of its positions, which coords holds projected to world coordinates by then.
 * ranges holds per zoom the tiles written, [x0, y0, x1, y1]; zooms per zoom ZOOM_SIZE numbers, [n, sqTol, pixel,
 * minArea, atMax (0 or 1)], as tileAtZoom computes them (pipeline/tiler/map-stage.ts); every zmax must have both
 * (zooms may be empty without shapes).
 */
static napi_value write_records(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 10)
    return fail(env, "ERR_INVALID_ARG", "writeRecords takes ten arguments");
  const napi_typedarray_type types[8] = {napi_float64_array, napi_float64_array, napi_float64_array,
                                         napi_uint32_array,  napi_uint8_array,   napi_uint8_array,
                                         napi_int32_array,   napi_float64_array};
  void *data[8];
  size_t lengths[8];
  for (int i = 0; i < 8; i++)
    if (!typed_arg(env, argv[i], types[i], &data[i], &lengths[i]))
      return fail(env, "ERR_INVALID_ARG",
                  "writeRecords: points, shapes, coords, parts, props, layer, ranges, zooms must be typed arrays");
  double extent, buffer;
  if (napi_get_value_double(env, argv[8], &extent) != napi_ok || napi_get_value_double(env, argv[9], &buffer) != napi_ok)
    return fail(env, "ERR_INVALID_ARG", "writeRecords: extent and buffer must be numbers");
  const double *pts = data[0], *shapes = data[1], *coords = data[2], *zooms = data[7];
  const uint32_t *parts = data[3];
  const uint8_t *props = data[4], *layer = data[5];
  const int32_t *ranges = data[6];
  size_t npoints = lengths[0] / POINT_SIZE, nshapes = lengths[1] / SHAPE_SIZE, layer_len = lengths[5];
  size_t nranges = lengths[6] / 4, nzooms = lengths[7] / ZOOM_SIZE;
  const double buf = buffer / extent;

  state_t *st;
  if (napi_get_instance_data(env, (void **)&st) != napi_ok || !st)
    return fail(env, NULL, "writeRecords: not initialised");
  points_t *wp = &st->w;
  wp->out.len = 0;
  wp->tails.len = 0;
  wp->nfeatures = 0;
  wp->tails_len = 0;
  wp->n = 0;
  int ok = 1;
  for (size_t i = 0; i < npoints && ok; i++) {
    const double *pt = pts + i * POINT_SIZE;
    size_t ps = (size_t)pt[6], pe = (size_t)pt[7];
    if (!(pt[2] >= 0 && pt[3] < (double)nranges && pt[7] <= (double)lengths[4] && pt[6] >= 0 && pt[6] <= pt[7])) {
      ok = 0;
      break;
    }
    ok = make_tail(wp, pt[4], pt[5], layer, layer_len, props + ps, pe - ps) &&
         point_records(wp, pt, ranges, extent, buf);
  }
  for (size_t i = 0; i < nshapes && ok; i++) {
    const double *sh = shapes + i * SHAPE_SIZE;
    size_t ps = (size_t)sh[5], pe = (size_t)sh[6];
    if (!(sh[1] >= 0 && sh[2] < (double)nranges && sh[2] < (double)nzooms && sh[2] <= 30 && sh[6] <= (double)lengths[4] &&
          sh[5] >= 0 && sh[5] <= sh[6])) {
      ok = 0;
      break;
    }
    ok = make_tail(wp, sh[3], sh[4], layer, layer_len, props + ps, pe - ps) &&
         shape_records(&st->sh, wp, sh, coords, lengths[2] / 2, parts, lengths[3], ranges, zooms, extent, buf);
  }
  napi_value result = NULL;
  rec_t *sorted = NULL;
  void *bytes_d, *ids_d, *offs_d;
  napi_value bytes_ab, ids_ab, offs_ab, bytes_v, ids_v, offs_v;
  if (ok) {
    if (wp->n) wp->starts[wp->n] = (uint32_t)wp->out.len;
    sorted = sort_records(wp);
    ok = napi_create_arraybuffer(env, wp->out.len + wp->tails_len, &bytes_d, &bytes_ab) == napi_ok &&
         napi_create_arraybuffer(env, wp->n * sizeof(double), &ids_d, &ids_ab) == napi_ok &&
         napi_create_arraybuffer(env, wp->n * sizeof(uint32_t), &offs_d, &offs_ab) == napi_ok;
  }
  if (ok) {
    uint8_t *dst = bytes_d;
    double *ids = ids_d;
    uint32_t *offs = offs_d;
    size_t pos = 0;
    const uint32_t *tail_starts = wp->tail_starts;
    for (size_t k = 0; k < wp->n; k++) {
      uint32_t i = sorted[k].index, f = sorted[k].feature;
      size_t start = wp->starts[i], len = wp->starts[i + 1] - start;
      size_t tail = tail_starts[f], tail_len = tail_starts[f + 1] - tail;
      ids[k] = sorted[k].id;
      offs[k] = (uint32_t)pos;
      memcpy(dst + pos, wp->out.data + start, len);
      memcpy(dst + pos + len, wp->tails.data + tail, tail_len);
      pos += len + tail_len;
    }
    napi_create_typedarray(env, napi_uint8_array, pos, bytes_ab, 0, &bytes_v);
    napi_create_typedarray(env, napi_float64_array, wp->n, ids_ab, 0, &ids_v);
    napi_create_typedarray(env, napi_uint32_array, wp->n, offs_ab, 0, &offs_v);
    napi_create_object(env, &result);
    napi_set_named_property(env, result, "bytes", bytes_v);
    napi_set_named_property(env, result, "tileIds", ids_v);
    napi_set_named_property(env, result, "offsets", offs_v);
  }
  if (!ok) return fail(env, "ERR_INVALID_ARG", "writeRecords: out of memory, or a feature outside its arrays");
  return result;
}

NAPI_MODULE_INIT() {
  state_t *st = calloc(1, sizeof(state_t));
  if (!st || napi_set_instance_data(env, st, free_state, NULL) != napi_ok) {
    free(st);
    return fail(env, "ERR_OUT_OF_MEMORY", "geojson: out of memory");
  }
  napi_value fn, size;
  napi_create_function(env, "scanPoints", NAPI_AUTO_LENGTH, scan_points, NULL, &fn);
  napi_set_named_property(env, exports, "scanPoints", fn);
  napi_create_function(env, "writeRecords", NAPI_AUTO_LENGTH, write_records, NULL, &fn);
  napi_set_named_property(env, exports, "writeRecords", fn);
  const struct {
    const char *name;
    uint32_t value;
  } sizes[] = {{"ITEM_SIZE", ITEM_SIZE}, {"POINT_SIZE", POINT_SIZE}, {"SHAPE_SIZE", SHAPE_SIZE}, {"ZOOM_SIZE", ZOOM_SIZE}};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    napi_create_uint32(env, sizes[i].value, &size);
    napi_set_named_property(env, exports, sizes[i].name, size);
  }
  return exports;
}
