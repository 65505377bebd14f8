// Named places for seeded nodes. The seam: a PlaceSource; today a built-in table of real places (positions
// approximate, to ~50 m), later the region's OSM data (named amenities, squares, landmarks) plugs in here.
import type { NODE_KINDS } from '../domain/schemas.js';
import type { SeedRegion } from './region.js';

export interface NamedPlace {
  name: string;
  lon: number;
  lat: number;
  kind: (typeof NODE_KINDS)[number];
}

/** Where named places come from (e.g. a reader of the region's OSM extract). */
export type PlaceSource = (region: SeedRegion) => Promise<NamedPlace[]>;

const p = (name: string, lon: number, lat: number): NamedPlace => ({ name, lon, lat, kind: 'place' });

const BUILTIN: Record<string, NamedPlace[]> = {
  monaco: [
    p('Casino de Monte-Carlo', 7.4275, 43.7395),
    p('Palais Princier', 7.42, 43.7313),
    p('Musée océanographique', 7.4253, 43.7307),
    p('Cathédrale de Monaco', 7.4232, 43.7303),
    p('Port Hercule', 7.4225, 43.735),
    p('Stade Louis II', 7.4157, 43.7277),
    p('Jardin Exotique', 7.4127, 43.7312),
    p('Plage du Larvotto', 7.436, 43.7455),
    p('Grimaldi Forum', 7.4318, 43.7436),
    p('Gare de Monaco-Monte-Carlo', 7.4196, 43.739),
    p('Jardin Japonais', 7.434, 43.7418),
    p('Marché de la Condamine', 7.4208, 43.7355),
    p('Fort Antoine', 7.4273, 43.7318),
    p('Église Sainte-Dévote', 7.4188, 43.737),
    p('Roseraie Princesse Grace', 7.417, 43.7265),
    p('Place d’Armes', 7.4203, 43.7336),
    p('Parc Princesse Antoinette', 7.4175, 43.7365),
    p('Héliport de Monaco', 7.419, 43.7255),
  ],
  liechtenstein: [
    p('Schloss Vaduz', 9.5238, 47.1395),
    p('Kunstmuseum Liechtenstein', 9.5213, 47.1392),
    p('Kathedrale St. Florin', 9.5217, 47.1374),
    p('Rathaus Vaduz', 9.5216, 47.1405),
    p('Rheinpark Stadion', 9.513, 47.1385),
    p('Liechtensteinisches Landesmuseum', 9.5218, 47.1383),
    p('Bahnhof Schaan-Vaduz', 9.5065, 47.166),
    p('Burg Gutenberg', 9.499, 47.064),
    p('Malbun', 9.6095, 47.102),
    p('Triesenberg Kirche', 9.5425, 47.118),
    p('Triesen Kirche', 9.5285, 47.108),
    p('Eschen', 9.5225, 47.2105),
    p('Mauren', 9.5435, 47.219),
    p('Ruggeller Riet', 9.525, 47.242),
    p('Kirchhügel Bendern', 9.506, 47.215),
    p('Burgruine Obere Burg Schellenberg', 9.547, 47.2325),
    p('Planken', 9.544, 47.185),
    p('Steg', 9.57, 47.113),
    p('Universität Liechtenstein', 9.5185, 47.144),
    p('Alte Rheinbrücke', 9.509, 47.145),
  ],
};

/** The built-in places of a region (inside its bbox); none for regions without a table. */
export const builtinPlaces: PlaceSource = async (region) => {
  const [w, s, e, n] = region.bbox;
  return (BUILTIN[region.id] ?? []).filter((pl) => pl.lon >= w && pl.lon <= e && pl.lat >= s && pl.lat <= n);
};
