/*
 * postconf_other - the modes that describe this build, not a configuration:
 * -m (table types), -l (mailbox lock types), -a/-A (SASL plug-in types),
 * -T (TLS library). -b/-t are in postconf_templates.ts.
 *
 * Each lists what Postroom itself implements, never what Postfix would: an
 * administrator uses these lists to choose parameter values that work.
 */
import { generateKeyPairSync } from 'node:crypto';
import { msg } from '../global/msg.js';
import { dictTypes } from '../maps/index.js';

/**
 * Node.js offers no flock() or fcntl() locks, and Postroom takes no native
 * add-on for them, so only dotlock files can be honoured.
 */
export const LOCK_TYPES: readonly string[] = ['dotlock'];

/**
 * SASL plug-ins: Postroom has no SASL server (Cyrus or Dovecot) and no SASL
 * client yet, so -a and -A list nothing, as Postfix does when built
 * without SASL.
 */
export const SASL_SERVER_TYPES: readonly string[] = [];
export const SASL_CLIENT_TYPES: readonly string[] = [];

function lines(list: readonly string[]): number {
  process.stdout.write(list.map((l) => `${l}\n`).join(''));
  return 0;
}

export function showMapTypes(): number {
  return lines(dictTypes());
}

export function showLockTypes(): number {
  return lines(LOCK_TYPES);
}

export function showSaslTypes(client: boolean): number {
  return lines(client ? SASL_CLIENT_TYPES : SASL_SERVER_TYPES);
}

/** Key types Node's OpenSSL can make, named as postconf -T names them. */
function publicKeyAlgorithms(): string[] {
  const tries: ReadonlyArray<readonly [string, () => unknown]> = [
    ['dsa', () => generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 })],
    ['ecdsa', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' })],
    ['rsa', () => generateKeyPairSync('rsa', { modulusLength: 512 })],
  ];
  const out: string[] = [];
  for (const [name, make] of tries) {
    try {
      make();
      out.push(name);
    } catch {
      // Not in this OpenSSL build.
    }
  }
  return out;
}

/**
 * -T: Postroom's TLS is Node's, so the "compiled with" and "running with"
 * versions are both the OpenSSL that Node carries. Node does not expose
 * OpenSSL's release date, so the line is "OpenSSL <version>" alone.
 */
export function showTls(mode: string): number {
  const openssl = process.versions.openssl;
  switch (mode) {
    case 'compile-version':
    case 'run-version':
      return lines(openssl ? [`OpenSSL ${openssl}`] : []);
    case 'public-key-algorithms':
      return lines(openssl ? publicKeyAlgorithms() : []);
    default:
      msg.warn(`unknown 'postconf -T' mode: ${mode}`);
      return 1;
  }
}
