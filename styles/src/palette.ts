// The colours of our styles in one place: a light, warm base map that keeps the activity overlay (raspberry) the
// strongest colour on screen. Text colours are chosen against their halo for WCAG contrast ≥ 4.5:1
// (test/styles/contrast.test.ts computes it from the built styles).

export const BASE = {
  land: '#f3f0e8',
  water: '#a6cbe3',
  waterLine: '#8dbbdc',
  // land cover and land use
  forest: '#c5dab2',
  green: '#d3e6c0',
  park: '#cbe4b8',
  farmland: '#ebe8d1',
  residential: '#ebe6de',
  commercial: '#f1e2de',
  industrial: '#e7e0e8',
  sand: '#f0e4bf',
  rock: '#e1dcd4',
  wetland: '#d2e5dc',
  cemetery: '#d0dcc8',
  // sites
  education: '#f1e5cf',
  hospital: '#f3dada',
  parking: '#e6e3dd',
  construction: '#e4ddca',
  sport: '#d6ead0',
  danger: '#f0d6d0',
  // built
  building: '#dcd3c7',
  buildingOutline: '#c7bcae',
  pier: '#e9e5dc',
  dam: '#cfc8bd',
  // streets: fill and casing by class
  motorway: '#f1a76c',
  motorwayCasing: '#c0743a',
  trunk: '#f6c489',
  trunkCasing: '#c59052',
  primary: '#fbd99a',
  primaryCasing: '#c6a263',
  secondary: '#fdeeb4',
  secondaryCasing: '#c9b47a',
  minor: '#ffffff',
  minorCasing: '#c8bfb2',
  pedestrian: '#f6f3ef',
  runway: '#d6d1c9',
  path: '#9a8877',
  cycleway: '#5b7fae',
  track: '#a58557',
  rail: '#8b8784',
  railDash: '#ffffff',
  aerialway: '#6b6761',
  ferry: '#4f86c1',
  // boundaries
  country: '#8a779e',
  state: '#aa9cbb',
  // labels: text on a white halo
  halo: '#ffffff',
  text: '#2d2a26',
  streetText: '#47423c',
  placeText: '#1d1b18',
  suburbText: '#5a534b',
  waterText: '#245a88',
  boundaryText: '#5f4d73',
  addressText: '#6a635b',
  poi: {
    amenity: '#7a4a24',
    shop: '#773b88',
    tourism: '#1d5f8e',
    leisure: '#2e6a2e',
    historic: '#6d4f2b',
    other: '#56504a',
  },
} as const;

export const ACTIVITY = {
  /** a node or thread at full freshness (fade 1) */
  strong: '#a8195a',
  /** … and nearly faded (fade → 0) */
  faint: '#e49bbd',
  nodeStroke: '#ffffff',
  /** the ring around a node with open proposals */
  proposal: '#8a3b00',
  /** cluster counts: white on a dark halo that sits on the node's circle */
  countText: '#ffffff',
  countHalo: '#6e0f39',
  labelText: '#5c0e31',
  labelHalo: '#ffffff',
} as const;
