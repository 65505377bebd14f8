// PMTiles v3 tile ids: position on the series of Hilbert curves from zoom 0 up (spec 4.1), in plain arithmetic.

/** Highest zoom whose tile ids are exact in a double (4^27 would pass 2^53). */
export const MAX_ZOOM = 26;

/** BASE_IDS[z] = id of the first tile of zoom z = (4^z - 1) / 3; BASE_IDS[27] bounds the ids of zoom 26. */
const BASE_IDS = new Float64Array(MAX_ZOOM + 2);
for (let z = 1; z < BASE_IDS.length; z++) BASE_IDS[z] = BASE_IDS[z - 1]! * 4 + 1;

/** Tile id of the first tile of zoom z. */
export function firstTileIdOfZoom(z: number): number {
  return BASE_IDS[z]!;
}

/** One past the largest valid tile id. */
export const TILE_ID_LIMIT = BASE_IDS[MAX_ZOOM + 1]!;

/** Hilbert tile id of tile z/x/y (z 0–26). */
export function zxyToTileId(z: number, x: number, y: number): number {
  if (!Number.isInteger(z) || z < 0 || z > MAX_ZOOM)
    throw new RangeError(`zoom ${z} is not an integer in 0–${MAX_ZOOM}`);
  const n = 2 ** z;
  if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= n || y >= n) {
    throw new RangeError(`tile ${z}/${x}/${y} is outside zoom ${z} (x and y in 0–${n - 1})`);
  }
  let d = 0;
  for (let s = n >>> 1; s > 0; s >>>= 1) {
    const rx = (x & s) === 0 ? 0 : 1;
    const ry = (y & s) === 0 ? 0 : 1;
    d += s * s * ((3 * rx) ^ ry);
    if (ry === 0) {
      // rotate the quadrant; only the bits below s matter from here on
      if (rx === 1) {
        x ^= s - 1;
        y ^= s - 1;
      }
      const t = x;
      x = y;
      y = t;
    }
  }
  return BASE_IDS[z]! + d;
}

/** Zoom of a tile id. */
export function tileIdToZoom(id: number): number {
  if (!Number.isInteger(id) || id < 0 || id >= TILE_ID_LIMIT) {
    throw new RangeError(`tile id ${id} is not an integer in 0–${TILE_ID_LIMIT - 1}`);
  }
  let z = 0;
  while (BASE_IDS[z + 1]! <= id) z++;
  return z;
}

/** z/x/y of a Hilbert tile id. */
export function tileIdToZxy(id: number): [number, number, number] {
  const z = tileIdToZoom(id);
  let t = id - BASE_IDS[z]!;
  const n = 2 ** z;
  let x = 0;
  let y = 0;
  for (let s = 1; s < n; s *= 2) {
    // two bits of t per level; integer ops while t fits in 31 bits
    let q: number;
    if (t < 0x8000_0000) {
      q = t & 3;
      t >>>= 2;
    } else {
      q = t % 4;
      t = (t - q) / 4;
    }
    const rx = q >> 1;
    const ry = (q ^ rx) & 1;
    if (ry === 0) {
      if (rx === 1) {
        x = s - 1 - x;
        y = s - 1 - y;
      }
      const tmp = x;
      x = y;
      y = tmp;
    }
    x += s * rx;
    y += s * ry;
  }
  return [z, x, y];
}

/** Parse "z/x/y" into numbers; undefined when it is not three non-negative integers. */
export function parseZxy(text: string): [number, number, number] | undefined {
  const m = /^(\d{1,2})\/(\d{1,8})\/(\d{1,8})$/.exec(text.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** True when z/x/y names a tile that exists at that zoom. */
export function isValidZxy(z: number, x: number, y: number): boolean {
  if (!Number.isInteger(z) || z < 0 || z > MAX_ZOOM) return false;
  const n = 2 ** z;
  return Number.isInteger(x) && Number.isInteger(y) && x >= 0 && y >= 0 && x < n && y < n;
}

/** Bounds [west, south, east, north] in degrees of tile z/x/y (Web Mercator). */
export function tileBounds(z: number, x: number, y: number): [number, number, number, number] {
  const n = 2 ** z;
  const lon = (v: number) => (v / n) * 360 - 180;
  const lat = (v: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * v) / n))) * 180) / Math.PI;
  return [lon(x), lat(y + 1), lon(x + 1), lat(y)];
}
