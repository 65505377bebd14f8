// A small typed wrapper around Debian's `zstd` CLI (Node 20's zlib has no zstd): compress and decompress bytes.
// Every failure reaches the caller as one UserError line naming the input and zstd's own message.
import { spawn } from 'node:child_process';
import { UserError } from '../core/errors.js';

/** The zstd binary: WEFT_ZSTD, else `zstd` on PATH (read on each call). */
const zstdBin = () => process.env.WEFT_ZSTD || 'zstd';
const STDERR_LIMIT = 16 * 1024;

/** The level snapshots are written with: a good ratio for NDJSON at a modest cost, the same bytes every time. */
export const DEFAULT_LEVEL = 12;

function runZstd(args: string[], input: Uint8Array, name: string, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(zstdBin(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < STDERR_LIMIT) err += b.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        new UserError(
          e.code === 'ENOENT'
            ? `zstd is not installed (no "${zstdBin()}" on PATH); install it with: apt-get install -y zstd`
            : `cannot run ${zstdBin()}: ${e.message}`,
          'missing_tool',
        ),
      ),
    );
    // zstd may exit before reading all of a bad input: that is reported by the exit code, not as EPIPE
    child.stdin.on('error', () => {});
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(out));
      const lines = err
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const message = (lines.at(-1) ?? `exit code ${code ?? signal}`).replace(
        /^(zstd: )?(\/\*stdin\*\\ ?: )?/,
        '',
      );
      reject(new UserError(`${name}: ${what} failed: ${message}`, 'bad_zstd'));
    });
    child.stdin.end(input);
  });
}

/** zstd-compresses bytes (with a content checksum); the same bytes and level give the same output. */
export function zstdCompress(
  bytes: Uint8Array,
  options: { level?: number; name?: string } = {},
): Promise<Buffer> {
  const level = options.level ?? DEFAULT_LEVEL;
  // the size lets zstd fit its tables to the input (no large window for a small day: much faster, same ratio)
  return runZstd(
    ['-q', '-c', `-${level}`, '--check', `--stream-size=${bytes.length}`, '-'],
    bytes,
    options.name ?? 'input',
    'zstd compression',
  );
}

/** Decompresses a zstd frame; a corrupt or truncated input fails naming `name`. */
export function zstdDecompress(bytes: Uint8Array, name = 'input'): Promise<Buffer> {
  return runZstd(['-q', '-d', '-c', '-'], bytes, name, 'zstd decompression');
}

/** `zstd --version`'s line, e.g. "*** Zstandard CLI (64-bit) v1.5.4, by Yann Collet ***". */
export async function zstdVersion(): Promise<string> {
  return (await runZstd(['--version'], new Uint8Array(), '(version)', 'zstd --version'))
    .toString('utf8')
    .trim();
}
