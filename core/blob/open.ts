// Opens the configured blob store: any S3 API when S3_ENDPOINT is set, else the local folder (the default).
import path from 'node:path';
import { UserError } from '../errors.js';
import { repoRoot } from '../paths.js';
import type { BlobStore } from './adapter.js';
import { LocalBlobStore } from './local.js';
import { S3BlobStore, type S3Options } from './s3.js';

type Env = Record<string, string | undefined>;

/** The local store's folder: `$WEFT_BLOB_DIR` or `<repo>/.data/blob`. */
export function defaultBlobDir(env: Env = process.env): string {
  return env.WEFT_BLOB_DIR || path.join(repoRoot(), '.data', 'blob');
}

/** S3 settings from S3_* variables (AWS_* accepted for credentials and region); undefined when S3_ENDPOINT is unset. */
export function s3OptionsFromEnv(env: Env = process.env): S3Options | undefined {
  const endpoint = env.S3_ENDPOINT;
  if (!endpoint) return undefined;
  const need = (names: string[]): string => {
    for (const n of names) if (env[n]) return env[n]!;
    throw new UserError(`S3_ENDPOINT is set (${endpoint}) but ${names.join(' / ')} is not`, 'config');
  };
  const pathStyle = env.S3_FORCE_PATH_STYLE;
  return {
    endpoint,
    bucket: need(['S3_BUCKET']),
    region: env.S3_REGION || env.AWS_REGION || 'us-east-1',
    accessKeyId: need(['S3_ACCESS_KEY_ID', 'AWS_ACCESS_KEY_ID']),
    secretAccessKey: need(['S3_SECRET_ACCESS_KEY', 'AWS_SECRET_ACCESS_KEY']),
    sessionToken: env.S3_SESSION_TOKEN || env.AWS_SESSION_TOKEN || undefined,
    forcePathStyle: pathStyle === undefined || pathStyle === '' ? true : !/^(0|false|no)$/i.test(pathStyle),
  };
}

/** The blob store the environment asks for. */
export function openBlobStore(env: Env = process.env): BlobStore {
  const s3 = s3OptionsFromEnv(env);
  return s3 ? new S3BlobStore(s3) : new LocalBlobStore(defaultBlobDir(env));
}
