// The db contract suite on embedded PGlite with PostGIS (data in a temp folder).
import { contractSuite } from './contract.js';
import { freshPglite } from './helpers.js';

contractSuite('pglite', () => freshPglite());
