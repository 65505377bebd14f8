// Axis-aligned clipping of projected geometry (flat x,y pairs in world units) to a strip k1 ≤ coord ≤ k2.
// Lines may split into several lines; polygon rings are clipped as closed rings (Sutherland–Hodgman), so a ring
// stays a ring (with edges along the strip border) and holes stay holes.

/** axis 0 = x, 1 = y */
export type Axis = 0 | 1;

export function clipPoints(points: number[], k1: number, k2: number, axis: Axis): number[] {
  const out: number[] = [];
  for (let i = 0; i < points.length; i += 2) {
    const k = points[i + axis]!;
    if (k >= k1 && k <= k2) out.push(points[i]!, points[i + 1]!);
  }
  return out;
}

/** Clips one line; pieces with at least two points are appended to `out`. */
export function clipLine(line: number[], k1: number, k2: number, axis: Axis, out: number[][]): void {
  let slice: number[] = [];
  const n = line.length;
  for (let i = 0; i < n - 2; i += 2) {
    const ax = line[i]!;
    const ay = line[i + 1]!;
    const bx = line[i + 2]!;
    const by = line[i + 3]!;
    const a = axis === 0 ? ax : ay;
    const b = axis === 0 ? bx : by;
    let exited = false;
    if (a < k1) {
      if (b > k1) intersect(slice, ax, ay, bx, by, k1, axis);
    } else if (a > k2) {
      if (b < k2) intersect(slice, ax, ay, bx, by, k2, axis);
    } else {
      slice.push(ax, ay);
    }
    if (b < k1 && a >= k1) {
      intersect(slice, ax, ay, bx, by, k1, axis);
      exited = true;
    }
    if (b > k2 && a <= k2) {
      intersect(slice, ax, ay, bx, by, k2, axis);
      exited = true;
    }
    if (exited) {
      if (slice.length >= 4) out.push(slice);
      slice = [];
    }
  }
  if (n >= 2) {
    const lx = line[n - 2]!;
    const ly = line[n - 1]!;
    const l = axis === 0 ? lx : ly;
    if (l >= k1 && l <= k2) slice.push(lx, ly);
  }
  if (slice.length >= 4) out.push(slice);
}

/** Clips one closed ring (first point repeated at the end); returns the closed clipped ring, or null if empty. */
export function clipRing(ring: number[], k1: number, k2: number, axis: Axis): number[] | null {
  const out: number[] = [];
  const n = ring.length;
  for (let i = 0; i < n - 2; i += 2) {
    const ax = ring[i]!;
    const ay = ring[i + 1]!;
    const bx = ring[i + 2]!;
    const by = ring[i + 3]!;
    const a = axis === 0 ? ax : ay;
    const b = axis === 0 ? bx : by;
    if (a < k1) {
      if (b > k1) intersect(out, ax, ay, bx, by, k1, axis);
    } else if (a > k2) {
      if (b < k2) intersect(out, ax, ay, bx, by, k2, axis);
    } else {
      out.push(ax, ay);
    }
    if (b < k1 && a >= k1) intersect(out, ax, ay, bx, by, k1, axis);
    if (b > k2 && a <= k2) intersect(out, ax, ay, bx, by, k2, axis);
  }
  if (out.length < 6) return null;
  const m = out.length;
  if (out[0] !== out[m - 2] || out[1] !== out[m - 1]) out.push(out[0]!, out[1]!);
  return out;
}

function intersect(
  out: number[],
  ax: number,
  ay: number,
  bx: number,
  by: number,
  k: number,
  axis: Axis,
): void {
  if (axis === 0) {
    const t = (k - ax) / (bx - ax);
    out.push(k, ay + (by - ay) * t);
  } else {
    const t = (k - ay) / (by - ay);
    out.push(ax + (bx - ax) * t, k);
  }
}
