// Reads what the server put in the page (boot/config.ts) and what the device says about itself.
import { BOOT_ELEMENT_ID, type BootConfig } from './config.js';
import type { DeviceHints } from './params.js';

export function readBoot(): BootConfig {
  const el = document.getElementById(BOOT_ELEMENT_ID);
  const fallback: BootConfig = { regions: [], websockets: true, attribution: '© OpenStreetMap contributors' };
  if (!el?.textContent) return fallback;
  try {
    return { ...fallback, ...(JSON.parse(el.textContent) as BootConfig) };
  } catch {
    return fallback;
  }
}

export function deviceHints(): DeviceHints {
  const n = navigator as Navigator & { deviceMemory?: number; connection?: { saveData?: boolean } };
  return {
    hardwareConcurrency: n.hardwareConcurrency,
    deviceMemory: n.deviceMemory,
    saveData: n.connection?.saveData === true,
  };
}
