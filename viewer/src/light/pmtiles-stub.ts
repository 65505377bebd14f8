// Stands in for the `pmtiles` package inside protomaps-leaflet: the light path reads {z}/{x}/{y}.mvt tiles, never a
// .pmtiles archive, so the archive reader (and its decompressor) stay out of the light path's download.
export class PMTiles {
  constructor(source: unknown) {
    throw new Error(`the light path reads {z}/{x}/{y} tiles, not PMTiles archives (${String(source)})`);
  }
}
