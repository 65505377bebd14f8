// The snapshot signing key: an ed25519 key pair from configuration (WEFT_SNAPSHOT_KEY = PEM text or a path to a
// PEM file), its fingerprint (key id), and `weft snapshot keygen`. Verifying needs only the public half.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { UserError, errorMessage } from '../core/errors.js';

export interface SnapshotKey {
  /** Present when the configuration holds the private key (needed to write snapshots). */
  privateKey?: KeyObject;
  publicKey: KeyObject;
  /** sha256 (hex) of the public key's DER (SPKI): names the key in every snapshot header. */
  keyId: string;
  /** Where the key came from, for messages. */
  source: string;
}

type Env = Record<string, string | undefined>;

/** The key id: hex sha256 of the public key in SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** Reads a key from PEM text or a PEM file: private (PKCS#8) or public (SPKI); must be ed25519. */
export function parseSnapshotKey(value: string, source: string): SnapshotKey {
  const text = value.trimStart().startsWith('-----BEGIN') ? value : readPem(value, source);
  let privateKey: KeyObject | undefined;
  let publicKey: KeyObject;
  try {
    if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(text)) {
      privateKey = createPrivateKey(text);
      publicKey = createPublicKey(privateKey);
    } else {
      publicKey = createPublicKey(text);
    }
  } catch (err) {
    throw new UserError(`${source}: not a readable PEM key: ${errorMessage(err)}`, 'config');
  }
  if (publicKey.asymmetricKeyType !== 'ed25519')
    throw new UserError(
      `${source}: the snapshot key must be ed25519, this one is ${publicKey.asymmetricKeyType ?? 'unknown'} ` +
        `(create one with: weft snapshot keygen --out FILE)`,
      'config',
    );
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), source };
}

function readPem(file: string, source: string): string {
  if (!existsSync(file))
    throw new UserError(`${source}: neither PEM text nor an existing file: ${file}`, 'config');
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${source}: cannot read ${file}: ${errorMessage(err)}`, 'config');
  }
}

/**
 * The configured snapshot key: `explicit` (a --key option) or $WEFT_SNAPSHOT_KEY, else for verifying only
 * $WEFT_SNAPSHOT_PUBLIC_KEY. `needPrivate` asks for the private half (writing snapshots).
 */
export function loadSnapshotKey(
  options: { explicit?: string; needPrivate?: boolean; env?: Env } = {},
): SnapshotKey {
  const env = options.env ?? process.env;
  const [value, source] = options.explicit
    ? [options.explicit, '--key']
    : env.WEFT_SNAPSHOT_KEY
      ? [env.WEFT_SNAPSHOT_KEY, 'WEFT_SNAPSHOT_KEY']
      : !options.needPrivate && env.WEFT_SNAPSHOT_PUBLIC_KEY
        ? [env.WEFT_SNAPSHOT_PUBLIC_KEY, 'WEFT_SNAPSHOT_PUBLIC_KEY']
        : [undefined, ''];
  if (!value)
    throw new UserError(
      'no snapshot key configured: set WEFT_SNAPSHOT_KEY to an ed25519 private key (PEM text or a file); ' +
        'create one with: weft snapshot keygen --out FILE',
      'config',
    );
  const key = parseSnapshotKey(value, source);
  if (options.needPrivate && !key.privateKey)
    throw new UserError(`${source}: writing snapshots needs the private key, this is a public key`, 'config');
  return key;
}

/** A new ed25519 key pair as PEM (private PKCS#8, public SPKI) and its key id. */
export function generateSnapshotKey(): { privatePem: string; publicPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/** Writes a new key pair: the private key to `file` (mode 0600, never over an existing file), the public to `file.pub`. */
export function writeSnapshotKey(file: string): { keyId: string; privateFile: string; publicFile: string } {
  const pair = generateSnapshotKey();
  const publicFile = `${file}.pub`;
  for (const f of [file, publicFile])
    if (existsSync(f)) throw new UserError(`${f} already exists; not overwriting a key`, 'exists');
  try {
    writeFileSync(file, pair.privatePem, { mode: 0o600, flag: 'wx' });
    writeFileSync(publicFile, pair.publicPem, { mode: 0o644, flag: 'wx' });
  } catch (err) {
    throw new UserError(`cannot write the key to ${file}: ${errorMessage(err)}`, 'io');
  }
  return { keyId: pair.keyId, privateFile: file, publicFile };
}

/** An ed25519 signature (base64) of `message`. */
export function signBytes(key: SnapshotKey, message: Uint8Array): string {
  if (!key.privateKey) throw new UserError(`${key.source}: signing needs the private key`, 'config');
  return sign(null, message, key.privateKey).toString('base64');
}

/** True when `signature` (base64) is `key`'s ed25519 signature of `message`. */
export function verifyBytes(key: SnapshotKey, message: Uint8Array, signature: string): boolean {
  try {
    return verify(null, message, key.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
