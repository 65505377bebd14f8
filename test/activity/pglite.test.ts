// The activity build on embedded PGlite with PostGIS (data in a temp folder).
import { freshPglite } from '../db/helpers.js';
import { activitySuite } from './suite.js';

activitySuite('pglite', () => freshPglite());
