// Role position privacy, in one place: the collective area point, and the public home (salted hash + jitter).
// Only what these functions return may reach events, projections, tiles, deltas, logs or exports.
import { createHmac } from 'node:crypto';
import { UserError } from '../errors.js';

export type LonLat = [lon: number, lat: number];

export const DEFAULT_INACCURACY_M = 250;
export const MAX_INACCURACY_M = 5000;
/** The grid of collective area points: cells of 0.01° (about 1.1 km north–south). */
export const AREA_CELL_DEG = 0.01;

const METRES_PER_DEGREE = 111_320;
const MAX_LAT = 85;

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** The collective point of the area a point lies in: the centre of its 0.01° grid cell. */
export function areaPoint([lon, lat]: LonLat): LonLat {
  const cell = (x: number) => (Math.floor(x / AREA_CELL_DEG) + 0.5) * AREA_CELL_DEG;
  return [round6(cell(lon)), round6(Math.max(-MAX_LAT, Math.min(MAX_LAT, cell(lat))))];
}

/** The salted hash of an exact home (to recognise the same home again without comparing coordinates). */
export function homeHash(salt: string, [lon, lat]: LonLat): string {
  return createHmac('sha256', salt)
    .update(`home|${lon.toFixed(6)}|${lat.toFixed(6)}`)
    .digest('hex');
}

export interface HomeInput {
  roleId: string;
  /** The exact home. */
  point: LonLat;
  /** The inaccuracy radius the role chose, in metres; 0 = exact. */
  inaccuracyM: number;
  /** Recorded consent to publish the exact point; required when inaccuracyM is 0. */
  exactConsent: boolean;
  salt: string;
}

export interface PublicHome {
  publicPoint: LonLat;
  homeHash: string;
}

/**
 * The public position of a home: a point within `inaccuracyM` metres of it, at least a quarter of the
 * radius away, chosen by a salted HMAC of role and home — so placing the same home again gives the same
 * public point (no averaging of many samples), and nobody without the salt can derive the offset.
 */
export function publicHome(input: HomeInput): PublicHome {
  const { roleId, point, inaccuracyM, exactConsent, salt } = input;
  if (!Number.isInteger(inaccuracyM) || inaccuracyM < 0 || inaccuracyM > MAX_INACCURACY_M) {
    throw new UserError(
      `inaccuracyM: must be an integer from 0 to ${MAX_INACCURACY_M} metres, got ${inaccuracyM}`,
    );
  }
  if (inaccuracyM === 0 && !exactConsent) {
    throw new UserError('inaccuracyM: 0 (an exact public home) needs exactConsent: true');
  }
  const [lon, lat] = [round6(point[0]), round6(point[1])];
  const hash = homeHash(salt, [lon, lat]);
  if (inaccuracyM === 0) return { publicPoint: [lon, lat], homeHash: hash };
  const bytes = createHmac('sha256', salt)
    .update(`jitter|${roleId}|${lon.toFixed(6)}|${lat.toFixed(6)}|${inaccuracyM}`)
    .digest();
  const u1 = bytes.readUInt32BE(0) / 2 ** 32;
  const u2 = bytes.readUInt32BE(4) / 2 ** 32;
  const angle = 2 * Math.PI * u1;
  // uniform by area in the annulus [r/4, r), kept 1 m inside r so rounding to 6 decimals cannot cross it
  const r = Math.max(0, inaccuracyM - 1);
  const distance = r * Math.sqrt(1 / 16 + (15 / 16) * u2);
  const dLat = (distance * Math.cos(angle)) / METRES_PER_DEGREE;
  const dLon = (distance * Math.sin(angle)) / (METRES_PER_DEGREE * Math.cos((lat * Math.PI) / 180));
  let pLon = lon + dLon;
  if (pLon > 180) pLon -= 360;
  if (pLon < -180) pLon += 360;
  const pLat = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat + dLat));
  return { publicPoint: [round6(pLon), round6(pLat)], homeHash: hash };
}
