/*
 * The cleanup stream's cheap paths (docs/cleanup.md, "Cost"): several
 * messages over one kept connection, a kept connection that cleanup
 * closed meanwhile, qmgr triggers shared by a burst of commits, and the
 * queue file writer's whole-line path giving the same file as content().
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { CLEANUP_FLAG, CleanupClient, type CleanupConnection } from '../../src/global/cleanup_client.js';
import { loadMainConfig, type MainConfig } from '../../src/global/config.js';
import { queueLayout } from '../../src/global/queue_dirs.js';
import { openQueueFile } from '../../src/global/queue_file_reader.js';
import { createQueueFile } from '../../src/global/queue_file_writer.js';
import { daemonSetup, type Fixture, readQueueFile, sleep } from './daemon_fixture.js';

const FLAGS = CLEANUP_FLAG.MASK_EXTERNAL;

async function send(
  cfg: MainConfig,
  content: string,
  conn?: CleanupConnection,
): Promise<{ status: number; queueId: string; conn: CleanupConnection }> {
  const c = await CleanupClient.open(cfg, FLAGS, { keep: true, conn });
  await c.envelope({
    arrival: { sec: Math.floor(Date.now() / 1000), usec: 0 },
    sender: 'alice@example.com',
    recipients: [{ address: 'bob@example.com' }],
    attributes: { rewrite_context: 'local', origin: 'uid=0' },
  });
  await c.content(Buffer.from(content, 'latin1'));
  const r = await c.finish();
  return { status: r.status, queueId: r.queueId, conn: c.connection };
}

async function setup(t: TestContext, extra = ''): Promise<{ fx: Fixture; cfg: MainConfig }> {
  const fx = await daemonSetup(t, extra);
  await fx.start('cleanup');
  return { fx, cfg: loadMainConfig({ configDir: fx.conf }) };
}

test('several messages over one kept connection: each queued whole, the connection reused', async (t) => {
  const { fx, cfg } = await setup(t);
  const long = 'x'.repeat(5000);
  const bodies = [
    'Subject: one\n\nfirst body\n',
    `Subject: two\n folded\n\n${long}\nend\n`,
    'Subject: three\n\nno final newline',
  ];
  let conn: CleanupConnection | undefined;
  const ids: string[] = [];
  for (const b of bodies) {
    const r = await send(cfg, b, conn);
    assert.equal(r.status, 0);
    if (conn !== undefined) assert.equal(r.conn, conn, 'the same connection carries the next message');
    conn = r.conn;
    ids.push(r.queueId);
  }
  conn?.close();
  assert.equal(new Set(ids).size, 3);
  for (const [i, id] of ids.entries()) {
    const back = await readQueueFile(join(fx.queue, 'incoming', id));
    const sent = bodies[i] as string;
    const [head, body] = [sent.slice(0, sent.indexOf('\n\n') + 1), sent.slice(sent.indexOf('\n\n') + 2)];
    // cleanup adds its headers; the client's headers and body are stored as sent.
    assert.ok(back.headers.includes(head), back.headers);
    assert.equal(back.content.slice(back.headers.length + 1), body.endsWith('\n') ? body : `${body}\n`);
  }
  assert.doesNotMatch(fx.log(), /warning: (?!unable to look up public\/qmgr)/);
});

test('a kept connection that cleanup closed meanwhile: the next message goes over a new one', async (t) => {
  const { fx, cfg } = await setup(t, 'ipc_timeout = 1s');
  const first = await send(cfg, 'Subject: a\n\nbody\n');
  assert.equal(first.status, 0);
  // Idle longer than ipc_timeout: cleanup drops the connection.
  await sleep(1500);
  const second = await send(cfg, 'Subject: b\n\nbody\n', first.conn);
  assert.equal(second.status, 0);
  assert.notEqual(second.conn, first.conn);
  second.conn.close();
  assert.deepEqual(readdirSync(join(fx.queue, 'incoming')).sort(), [first.queueId, second.queueId].sort());
  assert.doesNotMatch(fx.log(), /warning: (?!unable to look up public\/qmgr)/);
});

test('a burst of commits: qmgr hears "A" after the last of them, at most once a message', async (t) => {
  const { fx, cfg } = await setup(t);
  const seen: string[][] = [];
  const qmgr = createServer((s) => {
    s.on('data', () => {});
    s.on('end', () => seen.push(readdirSync(join(fx.queue, 'incoming'))));
  });
  await new Promise<void>((r) => qmgr.listen(join(fx.queue, 'public', 'qmgr'), r));
  t.after(() => qmgr.close());
  const n = 20;
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => send(cfg, `Subject: m${i}\n\nbody\n`)),
  );
  for (const r of results) r.conn.close();
  const ids = results.map((r) => r.queueId).sort();
  const until = Date.now() + 5000;
  while (Date.now() < until && !(seen.at(-1)?.length === n)) await sleep(10);
  await sleep(50); // nothing more is owed
  assert.deepEqual(
    seen
      .at(-1)
      ?.filter((f) => !f.startsWith('t'))
      .sort(),
    ids,
  );
  assert.ok(seen.length >= 1 && seen.length <= n, `${seen.length} triggers`);
});

test('writer.line gives the same queue file as content() with the line and its LF', async (t) => {
  const { fx } = await setup(t);
  const layout = queueLayout(loadMainConfig({ configDir: fx.conf }));
  const lines = [
    'Subject: x',
    ' folded\n continued',
    '',
    'y'.repeat(4096),
    'z'.repeat(9000),
    'caf\xe9',
    'end',
  ];
  const files: Buffer[] = [];
  for (const way of ['line', 'content'] as const) {
    const w = await createQueueFile(layout, { time: { sec: 1, usec: 0 } });
    await w.envelope({ arrival: { sec: 1, usec: 0 }, sender: 's@x', recipients: [{ address: 'r@x' }] });
    for (const l of lines) {
      const b = Buffer.from(l, 'latin1');
      if (way === 'line') await w.line(b);
      else await w.content(Buffer.concat([b, Buffer.from('\n')]));
    }
    const id = await w.commit();
    const r = await openQueueFile(join(fx.queue, 'incoming', id));
    assert.ok(r.ok);
    const parts: Buffer[] = [];
    for await (const c of r.file.contentBytes()) parts.push(c);
    await r.file.close();
    files.push(Buffer.concat(parts));
    assert.equal(r.file.size.contentLength, Buffer.concat(parts).length);
  }
  assert.deepEqual(files[0], files[1]);
  assert.equal(files[0]?.toString('latin1'), `${lines.join('\n')}\n`);
});
