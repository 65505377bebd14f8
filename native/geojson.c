/*
 * weft's fast path for point features in newline-delimited GeoJSON: a Node-API function, built by scripts/setup.sh
 * into build/native/geojson.node and used by pipeline/tiler/native-points.ts. It scans a chunk of lines and, for
 * each line that is a plain point Feature, returns its position, id and properties already encoded the way the
 * engine stores them, with no JavaScript object made. Every other line (another geometry, a FeatureCollection, bad
 * JSON, anything unusual) is handed back by its byte range, and the JavaScript map stage parses it as before; so
 * this only has to recognise its subset exactly, never to report errors.
 *
 *   scanPoints(chunk: Uint8Array) → { items: Float64Array, props: Buffer, signatures: string[][] }
 *   writePoints(points, props, layer, ranges, extent, buffer) → { bytes, tileIds, offsets }   (see below)
 *
 * items, ITEM_SIZE numbers per non-blank line, in line order:
 *   [0, line, start, end, 0, 0, 0, 0]                  a line for the JavaScript parser: chunk[start .. end)
 *   [1, line, lon, lat, id, propsStart, propsEnd, sig]  a point Feature; id NaN when absent or not an id
 * `line` counts from 0 at the chunk's start. props[propsStart .. propsEnd) is the properties as the engine's
 * records hold them (`[count varint]([key: varint length + UTF-8][Value message: varint length + bytes])…`, null
 * values left out). signatures[sig] lists the feature's property keys with their type names (String, Number,
 * Boolean), flattened [key, type, key, type, …].
 *
 * writePoints then writes the records of the scanned points the map stage keeps (projected and given their zooms
 * in JavaScript, so that the floating-point results are JavaScript's own), byte for byte as the JavaScript map stage
 * would, as one sorted run.
 *
 * A line stays with JavaScript when its properties hold an object, an array, a number beyond double range, a
 * key made only of digits (JavaScript orders those first), "__proto__", or a repeated key; when its id is neither
 * a number nor a string; when its geometry has members besides type and coordinates; or when anything in it is not
 * strict JSON or valid UTF-8 (the JavaScript parser then gives its own error).
 */
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_SIZE 8
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

/** A JSON string at the cursor, its UTF-8 appended to out; 0 when it is not one we take (lone surrogates too). */
static int parse_string(cur_t *c, bytes_t *out) {
  if (c->p >= c->end || *c->p != '"') return 0;
  c->p++;
  for (;;) {
    const uint8_t *run = c->p;
    while (c->p < c->end && *c->p >= 0x20 && *c->p != '"' && *c->p != '\\' && *c->p < 0x80) c->p++;
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
    if (b - a == n && memcmp(s->text.data + a, sig, n) == 0) return (long)i;
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

/** The geometry: exactly {type: "Point", coordinates: [lon, lat, …numbers]} in either order. */
static int parse_point(scan_t *s, cur_t *c, double *lon, double *lat) {
  if (c->p >= c->end || *c->p != '{') return 0;
  c->p++;
  ws(c);
  int have_type = 0, have_coords = 0;
  for (;;) {
    s->scratch.len = 0;
    if (!member_key(c, &s->scratch)) return 0;
    if (s->scratch.len == 4 && memcmp(s->scratch.data, "type", 4) == 0 && !have_type) {
      s->scratch.len = 0;
      if (!parse_string(c, &s->scratch) || s->scratch.len != 5 || memcmp(s->scratch.data, "Point", 5) != 0)
        return 0;
      have_type = 1;
    } else if (s->scratch.len == 11 && memcmp(s->scratch.data, "coordinates", 11) == 0 && !have_coords) {
      if (c->p >= c->end || *c->p != '[') return 0;
      c->p++;
      int n = 0;
      for (;;) {
        ws(c);
        double v;
        if (!parse_number(c, &v)) return 0;
        if (n == 0) *lon = v;
        if (n == 1) *lat = v;
        n++;
        int next = after_member(c, ']');
        if (!next) return 0;
        if (next == 2) break;
      }
      if (n < 2) return 0;
      have_coords = 1;
    } else return 0;
    int next = after_member(c, '}');
    if (next != 1) return next == 2 && have_type && have_coords;
  }
}

/** A point Feature line: 1 with its parts, 0 to leave the line to JavaScript. */
static int parse_feature(scan_t *s, cur_t *c, double *lon, double *lat, double *id, long *sig) {
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
      if (have_geometry || !parse_point(s, c, lon, lat)) return 0;
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

/* ---- the Node-API function ------------------------------------------------------------------------------------ */

static napi_value fail(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

typedef struct {
  double id;
  uint32_t index; /* insertion order: ties keep it */
} rec_t;

/* The buffers of writePoints. */
typedef struct {
  bytes_t out;      /* records in insertion order */
  bytes_t tail;     /* the current point's tail */
  rec_t *recs, *sorted;
  uint32_t *starts; /* starts[i]: where record i (insertion order) begins in out */
  size_t n, cap;
} points_t;

/* The buffers of both functions, kept from call to call by each thread that loads the addon (instance data): a
   chunk then goes into memory already mapped instead of fresh pages. */
typedef struct {
  scan_t s;
  double *items;
  size_t cap;
  points_t w;
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
  free(st->items);
  free(st->w.out.data);
  free(st->w.tail.data);
  free(st->w.recs);
  free(st->w.sorted);
  free(st->w.starts);
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
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1)
    return fail(env, "ERR_INVALID_ARG", "scanPoints(chunk) takes one argument");
  size_t length;
  void *data;
  if (!typed_arg(env, argv[0], napi_uint8_array, &data, &length))
    return fail(env, "ERR_INVALID_ARG", "scanPoints: chunk must be a Uint8Array");
  const uint8_t *bytes = data, *end = bytes + length;

  state_t *st;
  if (napi_get_instance_data(env, (void **)&st) != napi_ok || !st) return fail(env, NULL, "scanPoints: not initialised");
  scan_t *sp = &st->s;
  sp->props.len = 0;
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
      size_t props_start = sp->props.len;
      if (parse_feature(sp, &c, &lon, &lat, &id, &sig)) {
        it[0] = 1, it[1] = (double)line, it[2] = lon, it[3] = lat, it[4] = id;
        it[5] = (double)props_start, it[6] = (double)sp->props.len, it[7] = (double)sig;
      } else {
        sp->props.len = props_start;
        it[0] = 0, it[1] = (double)line, it[2] = (double)(p - bytes), it[3] = (double)(e - bytes);
        it[4] = it[5] = it[6] = it[7] = 0;
      }
      nitems++;
    }
    line++;
    p = nl ? nl + 1 : end;
  }

  napi_value result = NULL, items_value, props_value, sigs_value, ab;
  void *abdata;
  if (!ok || napi_create_arraybuffer(env, nitems * ITEM_SIZE * sizeof(double), &abdata, &ab) != napi_ok) {
    return fail(env, "ERR_OUT_OF_MEMORY", "scanPoints: out of memory");
  }
  if (nitems) memcpy(abdata, items, nitems * ITEM_SIZE * sizeof(double));
  napi_create_typedarray(env, napi_float64_array, nitems * ITEM_SIZE, ab, 0, &items_value);
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
  return result;
}

/* ---- the records of scanned points ---------------------------------------------------------------------------- */

#define POINT_SIZE 8

/** Math.round as JavaScript has it: the nearest integer, halves towards +∞. */
static double js_round(double x) {
  double r = ceil(x);
  if (r - 0.5 > x) r -= 1.0;
  return r;
}

/** The PMTiles tile id of z/x/y (pipeline/pmtiles/tileid.ts). */
static double tile_id(int z, uint32_t x, uint32_t y) {
  uint64_t base = 0, d = 0;
  for (int i = 0; i < z; i++) base = base * 4 + 1;
  for (uint32_t s = (1u << z) >> 1; s > 0; s >>= 1) {
    uint64_t rx = (x & s) ? 1 : 0, ry = (y & s) ? 1 : 0;
    d += (uint64_t)s * s * ((3 * rx) ^ ry);
    if (!ry) {
      if (rx) {
        x ^= s - 1;
        y ^= s - 1;
      }
      uint32_t t = x;
      x = y;
      y = t;
    }
  }
  return (double)(base + d);
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

static int add_record(points_t *w, double id, uint32_t zx, uint32_t zy) {
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
  w->recs[w->n].id = id;
  w->recs[w->n].index = (uint32_t)w->n;
  w->starts[w->n] = (uint32_t)w->out.len;
  w->n++;
  /* [type 1][geometry length][MoveTo(1)][zx][zy] then the tail (RecordWriter.addPoint) */
  uint8_t head[3] = {1, (uint8_t)(1 + varint_size(zx) + varint_size(zy)), 9};
  return put(&w->out, head, 3) && put_varint(&w->out, zx) && put_varint(&w->out, zy) &&
         put(&w->out, w->tail.data, w->tail.len);
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
      int32_t qx = (int32_t)js_round((tx - x) * extent);
      for (double y = y0; y <= y1; y++) {
        if (x < r[0] || x > r[2] || y < r[1] || y > r[3]) continue;
        int32_t qy = (int32_t)js_round((ty - y) * extent);
        uint32_t zx = ((uint32_t)qx << 1) ^ (uint32_t)(qx >> 31);
        uint32_t zy = ((uint32_t)qy << 1) ^ (uint32_t)(qy >> 31);
        if (!add_record(w, tile_id(z, (uint32_t)x, (uint32_t)y), zx, zy)) return 0;
      }
    }
  }
  return 1;
}

/**
 * writePoints(points: Float64Array, props: Uint8Array, layer: Uint8Array, ranges: Int32Array, extent, buffer)
 *   → { bytes: Uint8Array, tileIds: Float64Array, offsets: Uint32Array }
 * The records of scanned points, byte for byte as Mapper.addPoint and RecordWriter.feature/addPoint write
 * them, as a run sorted by tile id (input order kept within a tile), like sortRun's. points holds POINT_SIZE
 * numbers per point: [wx, wy, zmin, zmax, seq, id (NaN: none), propsStart, propsEnd]: its world coordinates, the
 * zooms it is written at, its sequence number and id, and its encoded properties in props. ranges holds per zoom
 * the tiles written, [x0, y0, x1, y1]; every zmax must have one.
 */
static napi_value write_points(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6)
    return fail(env, "ERR_INVALID_ARG", "writePoints takes six arguments");
  const napi_typedarray_type types[4] = {napi_float64_array, napi_uint8_array, napi_uint8_array, napi_int32_array};
  void *data[4];
  size_t lengths[4];
  for (int i = 0; i < 4; i++)
    if (!typed_arg(env, argv[i], types[i], &data[i], &lengths[i]))
      return fail(env, "ERR_INVALID_ARG", "writePoints: points, props, layer, ranges must be typed arrays");
  double extent, buffer;
  if (napi_get_value_double(env, argv[4], &extent) != napi_ok || napi_get_value_double(env, argv[5], &buffer) != napi_ok)
    return fail(env, "ERR_INVALID_ARG", "writePoints: extent and buffer must be numbers");
  const double *pts = data[0];
  const uint8_t *props = data[1], *layer = data[2];
  size_t npoints = lengths[0] / POINT_SIZE, layer_len = lengths[2], zooms = lengths[3] / 4;
  const double buf = buffer / extent;

  state_t *st;
  if (napi_get_instance_data(env, (void **)&st) != napi_ok || !st) return fail(env, NULL, "writePoints: not initialised");
  points_t *wp = &st->w;
  wp->out.len = 0;
  wp->n = 0;
  int ok = 1;
  for (size_t i = 0; i < npoints && ok; i++) {
    const double *pt = pts + i * POINT_SIZE;
    double id = pt[5];
    size_t ps = (size_t)pt[6], pe = (size_t)pt[7];
    if (pt[2] < 0 || pt[3] >= (double)zooms || pe > lengths[1] || ps > pe) {
      ok = 0;
      break;
    }
    /* the tail (as RecordWriter.feature writes it, the properties encoded already): seq, flags, id, layer, properties */
    uint8_t flags = isnan(id) ? 0 : 1;
    wp->tail.len = 0;
    ok = put_varint(&wp->tail, (uint64_t)pt[4]) && put(&wp->tail, &flags, 1) && (!flags || put(&wp->tail, &id, 8)) &&
         put_varint(&wp->tail, layer_len) && put(&wp->tail, layer, layer_len) && put_varint(&wp->tail, pe - ps) &&
         put(&wp->tail, props + ps, pe - ps) && point_records(wp, pt, data[3], extent, buf);
  }
  napi_value result = NULL;
  rec_t *sorted = NULL;
  void *bytes_d, *ids_d, *offs_d;
  napi_value bytes_ab, ids_ab, offs_ab, bytes_v, ids_v, offs_v;
  if (ok) {
    if (wp->n) wp->starts[wp->n] = (uint32_t)wp->out.len;
    sorted = sort_records(wp);
    ok = napi_create_arraybuffer(env, wp->out.len, &bytes_d, &bytes_ab) == napi_ok &&
         napi_create_arraybuffer(env, wp->n * sizeof(double), &ids_d, &ids_ab) == napi_ok &&
         napi_create_arraybuffer(env, wp->n * sizeof(uint32_t), &offs_d, &offs_ab) == napi_ok;
  }
  if (ok) {
    uint8_t *dst = bytes_d;
    double *ids = ids_d;
    uint32_t *offs = offs_d;
    size_t pos = 0;
    for (size_t k = 0; k < wp->n; k++) {
      uint32_t i = sorted[k].index;
      size_t start = wp->starts[i], len = wp->starts[i + 1] - start;
      ids[k] = sorted[k].id;
      offs[k] = (uint32_t)pos;
      memcpy(dst + pos, wp->out.data + start, len);
      pos += len;
    }
    napi_create_typedarray(env, napi_uint8_array, wp->out.len, bytes_ab, 0, &bytes_v);
    napi_create_typedarray(env, napi_float64_array, wp->n, ids_ab, 0, &ids_v);
    napi_create_typedarray(env, napi_uint32_array, wp->n, offs_ab, 0, &offs_v);
    napi_create_object(env, &result);
    napi_set_named_property(env, result, "bytes", bytes_v);
    napi_set_named_property(env, result, "tileIds", ids_v);
    napi_set_named_property(env, result, "offsets", offs_v);
  }
  if (!ok) return fail(env, "ERR_INVALID_ARG", "writePoints: out of memory, or a point outside its arrays");
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
  napi_create_uint32(env, ITEM_SIZE, &size);
  napi_set_named_property(env, exports, "ITEM_SIZE", size);
  napi_create_function(env, "writePoints", NAPI_AUTO_LENGTH, write_points, NULL, &fn);
  napi_set_named_property(env, exports, "writePoints", fn);
  napi_create_uint32(env, POINT_SIZE, &size);
  napi_set_named_property(env, exports, "POINT_SIZE", size);
  return exports;
}
