// What the server tells a viewer page when it serves it (a JSON block in the HTML, so the light path needs no extra
// request): defined once, in serve/viewer/page.ts, which renders it.
export { BOOT_ELEMENT_ID, type BootConfig, type RegionInfo } from '../../../serve/viewer/page.js';
