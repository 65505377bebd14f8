// Test helper: a real S3 server (npm `s3rver`) in a child process on 127.0.0.1, a random port and a temp folder.
// It runs in its own Node with `--openssl-legacy-provider`: s3rver 3.7 makes ListObjectsV2 continuation tokens with
// DES, which OpenSSL 3 (Node ≥ 17) refuses otherwise, so every paginated list would fail with HTTP 500.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../core/paths.js';

export interface RunningS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

const SERVER = `
const S3rver = require('s3rver');
const server = new S3rver({ address: '127.0.0.1', port: 0, directory: process.argv[1], silent: true });
server.run().then(
  (addr) => console.log(JSON.stringify({ port: addr.port })),
  (err) => { console.error(String(err)); process.exit(1); },
);
process.stdin.on('end', () => server.close().finally(() => process.exit(0)));
process.stdin.resume();
`;

/** Starts s3rver storing under `directory`; resolves once it listens. The server stops when this process ends. */
export async function startS3rver(directory: string): Promise<RunningS3> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '-e', SERVER, directory],
    {
      cwd: repoRoot(),
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) =>
      reject(new Error(`s3rver exited with code ${code} before listening: ${stderr}`)),
    );
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    // s3rver's built-in account.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
