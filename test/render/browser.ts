// Render test helper: Debian's Chromium driven headless by playwright-core (never a downloaded browser), and why not.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, software-rendered headless run (WebGL through SwiftShader, no network side traffic). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** Why a render test cannot run here (missing browser or osmium), or undefined when it can. */
export function renderSkipReason(osmDir: string): string | undefined {
  if (!existsSync(osmDir)) return `${osmDir} is absent (the shared OSM extracts are not on this machine)`;
  if (!existsSync(CHROMIUM))
    return `${CHROMIUM} is missing (scripts/setup.sh installs the Debian chromium package)`;
  try {
    execFileSync('osmium', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'osmium-tool is not installed (scripts/setup.sh installs it)';
  }
  return undefined;
}
