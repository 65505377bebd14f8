// WKB → WKT for showing geometry in query results (Point, LineString, Polygon and their Multi/Collection forms,
// 2D, either byte order, ISO or EWKB type codes). Pure.

export function wkbToWkt(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const num = (n: number) => String(n);
  const geometry = (): string => {
    const little = view.getUint8(at) === 1;
    at += 1;
    let type = view.getUint32(at, little);
    at += 4;
    const ewkbSrid = (type & 0x20000000) !== 0;
    const ewkbZ = (type & 0x80000000) !== 0;
    const ewkbM = (type & 0x40000000) !== 0;
    type &= 0x0fffffff;
    if (ewkbSrid) at += 4;
    let dims = 2 + (ewkbZ ? 1 : 0) + (ewkbM ? 1 : 0);
    if (type > 1000) {
      dims = type >= 3000 ? 4 : 3;
      type %= 1000;
    }
    const u32 = () => {
      const v = view.getUint32(at, little);
      at += 4;
      return v;
    };
    const point = () => {
      const xy = [view.getFloat64(at, little), view.getFloat64(at + 8, little)];
      at += 8 * dims;
      return xy;
    };
    const coords = () => {
      const n = u32();
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(point().map(num).join(' '));
      return `(${out.join(', ')})`;
    };
    const rings = () => {
      const n = u32();
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(coords());
      return `(${out.join(', ')})`;
    };
    const parts = (name: string) => {
      const n = u32();
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const part = geometry().replace(/^[A-Z]+ /, '');
        // MULTIPOINT (1 2, 3 4), as DuckDB and PostGIS write it
        out.push(name === 'MULTIPOINT' ? part.slice(1, -1) : part);
      }
      return n ? `${name} (${out.join(', ')})` : `${name} EMPTY`;
    };
    switch (type) {
      case 1: {
        const [x, y] = point();
        return Number.isNaN(x) && Number.isNaN(y) ? 'POINT EMPTY' : `POINT (${num(x!)} ${num(y!)})`;
      }
      case 2:
        return `LINESTRING ${coords()}`;
      case 3:
        return `POLYGON ${rings()}`;
      case 4:
        return parts('MULTIPOINT');
      case 5:
        return parts('MULTILINESTRING');
      case 6:
        return parts('MULTIPOLYGON');
      case 7: {
        const n = u32();
        const out: string[] = [];
        for (let i = 0; i < n; i++) out.push(geometry());
        return n ? `GEOMETRYCOLLECTION (${out.join(', ')})` : 'GEOMETRYCOLLECTION EMPTY';
      }
      default:
        throw new Error(`WKB geometry type ${type} is not supported`);
    }
  };
  return geometry();
}
