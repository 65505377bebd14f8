// Stands in for @protomaps/basemaps in the viewer bundle: protomaps-leaflet imports it only for its built-in
// "flavors", which weft does not use (the light path brings its own rules, light/rules.ts).
export function namedFlavor(name: string): never {
  throw new Error(`protomaps flavor '${name}' is not bundled in weft's viewer`);
}
