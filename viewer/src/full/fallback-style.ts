// A plain style over the region's archives for when the server has no style to give (or a pack carries none):
// land, water, green, buildings, streets, boundaries and the activity layers — no labels, so no glyphs needed.
import type { Style } from './style.js';

export function fallbackStyle(sources: { base: string; activity?: string }, attribution: string): Style {
  const style: Style = {
    version: 8,
    sources: { base: { type: 'vector', url: sources.base, attribution } },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#f3f0ea' } },
      {
        id: 'ocean',
        type: 'fill',
        source: 'base',
        'source-layer': 'ocean',
        paint: { 'fill-color': '#a9cbe8' },
      },
      {
        id: 'land',
        type: 'fill',
        source: 'base',
        'source-layer': 'land',
        paint: {
          'fill-color': [
            'match',
            ['get', 'kind'],
            ['forest', 'wood', 'park', 'grass', 'meadow', 'garden', 'cemetery'],
            '#d3e6c5',
            '#ebe6df',
          ],
        },
      },
      {
        id: 'water',
        type: 'fill',
        source: 'base',
        'source-layer': 'water_polygons',
        paint: { 'fill-color': '#a9cbe8' },
      },
      {
        id: 'buildings',
        type: 'fill',
        source: 'base',
        'source-layer': 'buildings',
        paint: { 'fill-color': '#d8cfc6', 'fill-outline-color': '#b9ada2' },
      },
      {
        id: 'streets',
        type: 'line',
        source: 'base',
        'source-layer': 'streets',
        paint: {
          'line-color': [
            'match',
            ['get', 'kind'],
            ['motorway', 'trunk', 'primary', 'secondary'],
            '#f7d58b',
            '#ffffff',
          ],
          'line-width': ['interpolate', ['exponential', 1.6], ['zoom'], 10, 0.5, 16, 8],
        },
      },
      {
        id: 'boundaries',
        type: 'line',
        source: 'base',
        'source-layer': 'boundaries',
        paint: { 'line-color': '#8a6fa0', 'line-width': 1.5, 'line-dasharray': [3, 2] },
      },
    ],
  };
  if (sources.activity) {
    style.sources.activity = { type: 'vector', url: sources.activity };
    style.layers.push(
      {
        id: 'activity-threads',
        type: 'line',
        source: 'activity',
        'source-layer': 'threads',
        paint: {
          'line-color': '#b0124f',
          'line-width': 1.5,
          'line-opacity': ['coalesce', ['get', 'fade'], 1],
        },
      },
      {
        id: 'activity-nodes',
        type: 'circle',
        source: 'activity',
        'source-layer': 'nodes',
        paint: {
          'circle-color': '#b0124f',
          'circle-radius': ['min', 12, ['+', 4, ['sqrt', ['coalesce', ['get', 'threads'], 0]]]],
          'circle-stroke-color': '#ffffff',
          'circle-stroke-width': 2,
        },
      },
    );
  }
  return style;
}
