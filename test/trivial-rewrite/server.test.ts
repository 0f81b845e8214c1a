/*
 * The stand-alone service as a process: several requests on one stream,
 * bad input ends the session with a warning (never a crash or a hang)
 * (service.test.ts: the same on the service's socket).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { configDir, ROOT, run } from '../harness/index.js';
import { decodeReplies, encodeRequest } from './golden.js';

const MAIN = join(ROOT, 'dist/src/trivial-rewrite/main.js');
const CF = 'myhostname = mail.example.com\nmydomain = example.com\ncompatibility_level = 3.6\n';

test('requests are answered in order on one stream; an unknown request ends the session', (t) => {
  const input = Buffer.concat([
    encodeRequest({ op: 'rewrite', rule: 'local', address: 'u' }),
    encodeRequest({ op: 'resolve', sender: '', address: 'u@remote.org' }),
    Buffer.from('request\0bogus\0\0'),
    encodeRequest({ op: 'rewrite', rule: 'local', address: 'never' }),
  ]);
  const r = run('node', [MAIN, '-S'], { input, env: { MAIL_CONFIG: configDir(t, CF) } });
  assert.equal(r.status, 0);
  assert.deepEqual(decodeReplies(Buffer.from(r.stdout)), [
    ['flags', '0', 'address', 'u@mail.example.com'],
    [
      'flags',
      '0',
      'transport',
      'smtp',
      'nexthop',
      'remote.org',
      'recipient',
      'u@remote.org',
      'flags',
      '4096',
    ],
  ]);
  assert.equal(r.stderr, 'postfix/trivial-rewrite: warning: unknown request: "bogus"\n');
});

test('a truncated or oversized request gets no answer and no crash', (t) => {
  const env = { MAIL_CONFIG: configDir(t, CF) };
  const cut = run('node', [MAIN, '-S'], { input: Buffer.from('request\0rewrite\0rule\0loc'), env });
  assert.deepEqual([cut.status, cut.stdout, cut.stderr], [0, '', '']);
  const big = run('node', [MAIN, '-S'], { input: Buffer.alloc(200_000, 'x'), env });
  assert.deepEqual([big.status, big.stdout], [0, '']);
  assert.match(big.stderr, /^postfix\/trivial-rewrite: warning: request exceeds 65536 bytes\n$/);
});

test('a rewrite context other than local or remote ends the session', (t) => {
  const input = Buffer.from('request\0rewrite\0rule\0bogus\0address\0u\0\0');
  const r = run('node', [MAIN, '-S'], { input, env: { MAIL_CONFIG: configDir(t, CF) } });
  assert.deepEqual(
    [r.status, r.stdout, r.stderr],
    [0, '', 'postfix/trivial-rewrite: warning: unknown rewrite context: "bogus"\n'],
  );
});
