// Web Mercator projection of WGS84 longitude/latitude to world coordinates in [0, 1] (x east, y south).

export const MAX_LAT = 85.0511287798066;

export function projectX(lon: number): number {
  return lon / 360 + 0.5;
}

export function projectY(lat: number): number {
  const clamped = lat > MAX_LAT ? MAX_LAT : lat < -MAX_LAT ? -MAX_LAT : lat;
  const sin = Math.sin((clamped * Math.PI) / 180);
  const y = 0.5 - (0.25 * Math.log((1 + sin) / (1 - sin))) / Math.PI;
  return y < 0 ? 0 : y > 1 ? 1 : y;
}

export function unprojectX(x: number): number {
  return (x - 0.5) * 360;
}

export function unprojectY(y: number): number {
  const y2 = (180 - y * 360) * (Math.PI / 180);
  return (360 / Math.PI) * Math.atan(Math.exp(y2)) - 90;
}

/** The tile (x, y) at zoom z containing the world point; clamped to the grid. */
export function worldToTile(wx: number, wy: number, z: number): [number, number] {
  const n = 2 ** z;
  const x = Math.min(n - 1, Math.max(0, Math.floor(wx * n)));
  const y = Math.min(n - 1, Math.max(0, Math.floor(wy * n)));
  return [x, y];
}
