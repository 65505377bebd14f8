// Douglas–Peucker importance: each vertex of a projected path gets the squared distance at which it would be
// removed, computed once; a zoom then keeps the vertices whose importance exceeds its squared tolerance.
// Coordinates are flat triples [x, y, importance, x, y, importance, …] in world units.

/** Fills the importance slot (index 3i+2) of coords[first..last] (vertex indices). Endpoints get 1. */
export function computeImportance(coords: number[], first: number, last: number): void {
  coords[first * 3 + 2] = 1;
  coords[last * 3 + 2] = 1;
  // iterative Douglas–Peucker with an explicit stack
  const stack: number[] = [first, last];
  while (stack.length) {
    const b = stack.pop()!;
    const a = stack.pop()!;
    if (b - a < 2) continue;
    let maxSq = -1;
    let index = -1;
    const ax = coords[a * 3]!;
    const ay = coords[a * 3 + 1]!;
    const bx = coords[b * 3]!;
    const by = coords[b * 3 + 1]!;
    for (let i = a + 1; i < b; i++) {
      const d = sqSegDist(coords[i * 3]!, coords[i * 3 + 1]!, ax, ay, bx, by);
      if (d > maxSq) {
        maxSq = d;
        index = i;
      }
    }
    coords[index * 3 + 2] = maxSq;
    stack.push(a, index, index, b);
  }
}

function sqSegDist(px: number, py: number, x: number, y: number, bx: number, by: number): number {
  let dx = bx - x;
  let dy = by - y;
  if (dx !== 0 || dy !== 0) {
    const t = ((px - x) * dx + (py - y) * dy) / (dx * dx + dy * dy);
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

/** Signed area (shoelace, world units) of a ring given as triples. Positive = clockwise with y down. */
export function ringArea(coords: number[]): number {
  let sum = 0;
  const n = coords.length;
  for (let i = 0, j = n - 3; i < n; j = i, i += 3) {
    sum += (coords[j]! - coords[i]!) * (coords[i + 1]! + coords[j + 1]!);
  }
  return sum / 2;
}
