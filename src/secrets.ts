// Owns encryption at rest and the server HMAC key, both derived from SECRETS_KEY
// (or, in development only, a random key kept in DATA_DIR/secrets.key).
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

export interface Secrets {
  /** AES-256-GCM; output is `v1.<iv>.<tag>.<ciphertext>` in base64url. */
  encrypt(plain: string, context: string): string;
  decrypt(sealed: string, context: string): string;
  /** HMAC-SHA256 under a purpose-specific key, base64url. */
  hmac(purpose: string, value: string): string;
  /** Constant-time comparison of two strings. */
  equal(a: string, b: string): boolean;
}

export function createSecrets(masterKey: string): Secrets {
  const ikm = Buffer.from(masterKey, 'utf8');
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), info, 32));
  const encKey = derive('otp-idp/encrypt/v1');
  const hmacKeys = new Map<string, Buffer>();
  const hmacKey = (purpose: string) => {
    let key = hmacKeys.get(purpose);
    if (!key) hmacKeys.set(purpose, (key = derive(`otp-idp/hmac/${purpose}`)));
    return key;
  };
  return {
    encrypt(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      cipher.setAAD(Buffer.from(context));
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    decrypt(sealed, context) {
      const [version, iv, tag, ct] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unrecognised sealed value');
      const decipher = createDecipheriv('aes-256-gcm', encKey, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    },
    hmac(purpose, value) {
      return createHmac('sha256', hmacKey(purpose)).update(value).digest('base64url');
    },
    equal(a, b) {
      const ab = Buffer.from(a);
      const bb = Buffer.from(b);
      // Compare equal-length digests so the length of the input leaks nothing.
      const ha = createHmac('sha256', encKey).update(ab).digest();
      const hb = createHmac('sha256', encKey).update(bb).digest();
      return timingSafeEqual(ha, hb) && ab.length === bb.length;
    },
  };
}

/** SECRETS_KEY, or in development a generated key persisted in the data folder. */
export function resolveMasterKey(config: Pick<Config, 'secretsKey' | 'production' | 'dataDir'>): string {
  if (config.secretsKey) return config.secretsKey;
  if (config.production) throw new Error('SECRETS_KEY is required in production');
  const file = path.join(config.dataDir, 'secrets.key');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(config.dataDir, { recursive: true });
    const key = randomBytes(48).toString('base64url');
    try {
      fs.writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
      return key;
    } catch {
      return fs.readFileSync(file, 'utf8').trim();
    }
  }
}
