/*
 * tcp_table(5) and socketmap_table(5) clients against scripted servers on
 * 127.0.0.1: our bin/postmap must print what Postfix's printed (golden
 * files recorded by record_net_golden.ts) and send the same requests; the
 * tables themselves must turn every server failure into retry, time out,
 * bound replies and serialise requests.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { msg } from '../../../src/global/msg.js';
import { openDict } from '../../../src/maps/index.js';
import { SOCKETMAP_LIMITS } from '../../../src/maps/socketmap.js';
import { decodeTcp, encodeTcp, TCP_LIMITS } from '../../../src/maps/tcp.js';
import { configDir, postfixCommand, ROOT, tempDir } from '../../harness/index.js';
import { readGolden } from './golden.js';
import { deadPort, type NetCase, runCase, scriptedServer } from './net.js';

const cases = [...readGolden('tcp'), ...readGolden('socketmap')] as unknown as NetCase[];

test('network tables through bin/postmap and Postfix', { concurrency: true }, async (t) => {
  const conf = configDir(t);
  const ours = join(ROOT, 'bin', 'postmap');
  const live = postfixCommand(t, 'postmap');
  const runs = cases.map((c) =>
    t.test(`${c.protocol}: ${c.name}`, async () => {
      const got = await runCase(ours, conf, c);
      assert.deepEqual(
        { stdout: got.stdout, stderr: got.stderr, status: got.status, requests: got.requests },
        { stdout: c.stdout, stderr: c.stderr, status: c.status, requests: c.requests },
      );
    }),
  );
  if (live) {
    runs.push(
      t.test('live: Postfix still answers as recorded', async () => {
        await Promise.all(
          cases.map(async (c) => {
            const got = await runCase(live, conf, c);
            assert.deepEqual(
              { stdout: got.stdout, stderr: got.stderr, status: got.status, requests: got.requests },
              { stdout: c.stdout, stderr: c.stderr, status: c.status, requests: c.requests },
              `${c.protocol}: ${c.name}`,
            );
          }),
        );
      }),
    );
  }
  await Promise.all(runs);
});

/** Collect warnings instead of printing them. */
function captureWarnings(t: { after: (fn: () => void) => void }): string[] {
  const lines: string[] = [];
  msg.setSink((_level, line) => lines.push(line));
  t.after(() => msg.setSink(null));
  return lines;
}

/** Shorten the time limits for a test, restoring them afterwards. */
function fastLimits(t: { after: (fn: () => void) => void }): void {
  const saved = { ...TCP_LIMITS };
  const savedSock = { ...SOCKETMAP_LIMITS };
  Object.assign(TCP_LIMITS, { timeoutMs: 200, retryDelayMs: 1, tries: 3 });
  Object.assign(SOCKETMAP_LIMITS, { timeoutMs: 200 });
  t.after(() => {
    Object.assign(TCP_LIMITS, saved);
    Object.assign(SOCKETMAP_LIMITS, savedSock);
  });
}

test('tcp: a server that never answers times out, is retried, and gives retry', async (t) => {
  fastLimits(t);
  const warnings = captureWarnings(t);
  const server = await scriptedServer('tcp', ['HANG']);
  t.after(() => server.close());
  const d = await openDict(`tcp:127.0.0.1:${server.port}`);
  const r = await d.lookup('k');
  await d.close();
  assert.equal(r.kind, 'retry');
  assert.equal(server.requests.length, 3);
  assert.deepEqual(
    warnings,
    [
      `postroom: warning: read TCP map reply from 127.0.0.1:${server.port}: unexpected EOF (Connection timed out)`,
      `postroom: warning: read TCP map reply from 127.0.0.1:${server.port}: unexpected EOF (Connection timed out)`,
      `postroom: warning: read TCP map reply from 127.0.0.1:${server.port}: unexpected EOF (Connection timed out)`,
    ].map((l) => l.replace('postroom', msg.program)),
  );
});

test('tcp: a server that is down gives retry after the tries, never an exception', async (t) => {
  fastLimits(t);
  const warnings = captureWarnings(t);
  const port = await deadPort();
  const d = await openDict(`tcp:127.0.0.1:${port}`);
  assert.deepEqual(await d.lookup('k'), { kind: 'retry', reason: 'Connection refused' });
  assert.equal(warnings.length, 3);
  await d.close();
});

test('tcp: concurrent lookups share one connection, one request at a time, in order', async (t) => {
  const server = await scriptedServer('tcp', ['200 a\n', '500 x\n', '200 c\n']);
  t.after(() => server.close());
  const d = await openDict(`tcp:127.0.0.1:${server.port}`);
  const rs = await Promise.all(['x', 'y', 'z'].map((k) => d.lookup(k)));
  await d.close();
  assert.deepEqual(rs, [{ kind: 'found', value: 'a' }, { kind: 'notfound' }, { kind: 'found', value: 'c' }]);
  assert.deepEqual(server.requests, ['get x\n', 'get y\n', 'get z\n']);
});

test('tcp: keys are not case-folded, even with folding on', async (t) => {
  const server = await scriptedServer('tcp', ['200 a\n']);
  t.after(() => server.close());
  const d = await openDict(`tcp:127.0.0.1:${server.port}`);
  await d.lookup('MiXeD');
  await d.close();
  assert.deepEqual(server.requests, ['get MiXeD\n']);
});

test('tcp: encoding round trip over every byte value', () => {
  const all = Buffer.from([...Array(256).keys()].filter((b) => b !== 0)).toString('latin1');
  const enc = encodeTcp(all);
  assert.match(enc, /^[!-~]+$/, 'encoded text is printable ASCII without spaces');
  assert.equal(decodeTcp(enc), all);
  assert.equal(decodeTcp('a%4'), null);
  assert.equal(decodeTcp('a%zz'), null);
  assert.equal(decodeTcp('a%00b'), 'a');
});

test('socketmap: a server that never answers times out and gives retry', async (t) => {
  fastLimits(t);
  const warnings = captureWarnings(t);
  const server = await scriptedServer('socketmap', ['HANG']);
  t.after(() => server.close());
  const d = await openDict(`socketmap:inet:127.0.0.1:${server.port}:m`);
  const r = await d.lookup('k');
  await d.close();
  assert.equal(r.kind, 'retry');
  assert.deepEqual(warnings, [
    `${msg.program}: warning: table socketmap:inet:127.0.0.1:${server.port}:m lookup error: time limit exceeded`,
  ]);
});

test('socketmap: an oversized length is refused before the bytes arrive', async (t) => {
  const warnings = captureWarnings(t);
  const server = await scriptedServer('socketmap', ['999999999:']);
  t.after(() => server.close());
  const d = await openDict(`socketmap:inet:127.0.0.1:${server.port}:m`);
  assert.equal((await d.lookup('k')).kind, 'retry');
  await d.close();
  assert.match(warnings[0] ?? '', /lookup error: input exceeds size limit$/);
});

test('socketmap: lookups are serialised and keep the key as given', async (t) => {
  const server = await scriptedServer('socketmap', ['5:OK a1,', '9:NOTFOUND ,', '5:OK c3,']);
  t.after(() => server.close());
  const d = await openDict(`socketmap:inet:127.0.0.1:${server.port}:virt`);
  const rs = await Promise.all(['A', 'b c', 'ü'].map((k) => d.lookup(k)));
  await d.close();
  assert.deepEqual(rs, [
    { kind: 'found', value: 'a1' },
    { kind: 'notfound' },
    { kind: 'found', value: 'c3' },
  ]);
  assert.deepEqual(server.requests, ['6:virt A,', '8:virt b c,', '7:virt \xc3\xbc,']);
});

test('socketmap: unix-domain server', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'map.sock');
  const server = await scriptedServer('socketmap', ['7:OK unix,'], path);
  t.after(() => server.close());
  const d = await openDict(`socketmap:unix:${path}:users`);
  assert.deepEqual(await d.lookup('alice'), { kind: 'found', value: 'unix' });
  await d.close();
  assert.deepEqual(server.requests, ['11:users alice,']);
});
