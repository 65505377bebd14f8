// The embedded database belongs to one process: a second process (a CLI command while `weft serve` runs) is
// refused with a clear error instead of corrupting the folder; a lock left by a dead process is taken over.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPglite } from '../../core/db/pglite.js';
import { tempDir } from '../helpers/tmp.js';

const HOLDER = `
import { openPglite } from './core/db/pglite.ts';
const db = await openPglite(process.argv[1]);
process.stdout.write('open\\n');
process.stdin.on('data', async () => { await db.close(); process.exit(0); });
`;

describe('the embedded database lock', () => {
  it('refuses a second process while the first holds the folder, and opens once it is gone', async () => {
    const dir = path.join(tempDir('weft-pglite-lock-'), 'data');
    const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', HOLDER, dir], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (d: Buffer) => d.toString().includes('open') && resolve());
      holder.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
    await expect(openPglite(dir)).rejects.toThrow(
      new RegExp(`embedded database in .* is in use by process ${holder.pid}`),
    );
    holder.stdin!.write('close\n');
    await new Promise((resolve) => holder.once('exit', resolve));
    const db = await openPglite(dir);
    expect((await db.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n).toBe(1);
    await db.close();
  });

  it('takes over a lock whose process is gone', async () => {
    const dir = path.join(tempDir('weft-pglite-lock-'), 'data');
    await (await openPglite(dir)).close();
    writeFileSync(path.join(dir, '.weft-lock'), '2147483000');
    const db = await openPglite(dir);
    expect((await db.query<{ n: number }>('SELECT 2 AS n')).rows[0]!.n).toBe(2);
    await db.close();
  });
});
