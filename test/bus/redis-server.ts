// Test helper: restarts the machine's Redis (CI's 127.0.0.1:6379) with the very command that starts it, one
// restart at a time across processes, and always brings it back — other tests use it.
import { execFile } from 'node:child_process';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REDIS_PORT = 6379;
/** CI's start command for Redis (the issue allows restarting it with exactly this). */
export const REDIS_SERVER_ARGS = [
  '--daemonize',
  'yes',
  '--bind',
  '127.0.0.1',
  '-::1',
  '--port',
  String(REDIS_PORT),
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  '/var/lib/redis',
  '--logfile',
  '/var/log/redis/ci.log',
];

const LOCK = join(tmpdir(), 'weft-redis-restart.lock');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Why this machine's Redis cannot be restarted by a test, or undefined when it can. */
export async function cannotRestartRedis(env = process.env): Promise<string | undefined> {
  if (env.REDIS_URL && !/^redis:\/\/(127\.0\.0\.1|localhost)(:6379)?\/?$/.test(env.REDIS_URL)) {
    return `REDIS_URL (${env.REDIS_URL}) is not the local Redis on ${REDIS_PORT}`;
  }
  for (const tool of ['redis-server', 'redis-cli']) {
    try {
      await run(tool, ['--version']);
    } catch {
      return `${tool} is not installed`;
    }
  }
  if (!(await redisAnswers())) return `no Redis answers on 127.0.0.1:${REDIS_PORT}`;
  return undefined;
}

/** True when Redis answers PING. */
export async function redisAnswers(): Promise<boolean> {
  try {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(REDIS_PORT), 'ping'], {
      timeout: 2000,
    });
    return stdout.trim() === 'PONG';
  } catch {
    return false;
  }
}

/** Redis's run_id: it changes on every start, so it tells a restart happened. */
export async function redisRunId(): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(REDIS_PORT), 'info', 'server']);
  const m = /run_id:(\w+)/.exec(stdout);
  if (!m) throw new Error('no run_id in INFO server');
  return m[1]!;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** `redis-cli shutdown nosave`, then wait until Redis no longer answers. */
export async function stopRedis(): Promise<void> {
  await run('redis-cli', ['-p', String(REDIS_PORT), 'shutdown', 'nosave']).catch(() => {});
  await waitFor('Redis did not stop', async () => !(await redisAnswers()), 10_000);
}

/** Starts Redis with CI's command and waits until it answers PING. */
export async function startRedis(): Promise<void> {
  await run('redis-server', REDIS_SERVER_ARGS);
  await waitFor('Redis did not answer PING', redisAnswers, 15_000);
}

/** Starts Redis if it does not answer (for afterAll: whatever happened, leave it running). */
export async function ensureRedisRunning(): Promise<void> {
  if (!(await redisAnswers())) await startRedis();
}

/** How many clients other than the asking one are connected to Redis. */
export async function otherRedisClients(): Promise<number> {
  const { stdout } = await run('redis-cli', ['-p', String(REDIS_PORT), 'client', 'list']);
  return stdout.split('\n').filter((l) => l.startsWith('id=') && !l.includes('cmd=client|list')).length;
}

/**
 * Waits until no other client has been connected for a moment (other test files using Redis have finished), at
 * most `timeoutMs`; returns whether it got there. A restart then disturbs nobody.
 */
export async function waitForRedisIdle(timeoutMs = 90_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  let quiet = 0;
  while (Date.now() < until) {
    quiet = (await otherRedisClients().catch(() => 1)) === 0 ? quiet + 1 : 0;
    if (quiet >= 3) return true;
    await sleep(100);
  }
  return false;
}

/** Takes the cross-process restart lock (a directory), breaking one older than two minutes. */
async function lock(): Promise<void> {
  const until = Date.now() + 120_000;
  for (;;) {
    try {
      await mkdir(LOCK);
      return;
    } catch {
      const age = await stat(LOCK).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 120_000) await rmdir(LOCK).catch(() => {});
      if (Date.now() > until) throw new Error(`could not take ${LOCK}`);
      await sleep(100);
    }
  }
}

/**
 * Stops Redis, runs `whileDown` (short!), starts it again and waits for PING. Redis is started again even when
 * `whileDown` throws. Returns how long Redis did not answer.
 */
export async function restartRedis(
  whileDown: () => Promise<void> = async () => {},
): Promise<{ downMs: number }> {
  await lock();
  try {
    const stoppedAt = Date.now();
    try {
      await stopRedis();
      await whileDown();
    } finally {
      await startRedis();
    }
    return { downMs: Date.now() - stoppedAt };
  } finally {
    await rmdir(LOCK).catch(() => {});
  }
}
