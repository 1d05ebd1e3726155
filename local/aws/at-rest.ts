import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Encryption at rest for the local SSM SecureString values and Secrets Manager secrets, standing in for KMS: a
 * 256-bit key generated once into the state directory (mode 0600) and AES-256-GCM per value, so a token or a client
 * secret never sits in plain text in the JSON state files. The context (e.g. the parameter name) is bound as
 * additional authenticated data, so a sealed value copied onto another name does not open.
 *
 * Deliberate difference from AWS: there is one local key; KeyId / KmsKeyId values are recorded, not resolved.
 */
export class AtRestCipher {
  static readonly KEY_FILE = 'at-rest.key';

  private constructor(private readonly key: Buffer) {}

  /** Loads the state directory's key, creating it on first use (exclusive create: two starters agree on one key). */
  static forStateDir(stateDir: string): AtRestCipher {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const path = join(stateDir, AtRestCipher.KEY_FILE);
    try {
      writeFileSync(path, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== 32)
      throw new Error(`${path} does not hold a 256-bit key; delete it only together with the state it encrypts`);
    return new AtRestCipher(key);
  }

  /** base64(iv | tag | ciphertext). Opaque: it is also what SSM returns for a SecureString read without decryption. */
  seal(plaintext: string | Buffer, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([
      cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext),
      cipher.final(),
    ]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(sealed: string, context: string): Buffer {
    const raw = Buffer.from(sealed, 'base64');
    if (raw.length < 28) throw new Error('sealed value is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  }

  openString(sealed: string, context: string): string {
    return this.open(sealed, context).toString('utf8');
  }
}
