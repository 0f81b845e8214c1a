/*
 * pickup's cleanup connections outlive a scan: mail that comes one
 * message at a time (one trigger, one scan, one file each) goes over one
 * connection, which pickup closes once it has been idle a moment. A
 * stand-in cleanup counts the connections.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { REC_CLEANUP_FLAGS } from '../../src/global/cleanup_client.js';
import { encodeRecord, REC } from '../../src/global/queue_file.js';
import { readRecords } from '../../src/global/record_stream.js';
import { daemonSetup } from '../cleanup/daemon_fixture.js';

/** Enough of cleanup's side of the stream: a queue ID for each F record, status 0 for each E. */
function standInCleanup(path: string) {
  const seen: Socket[] = [];
  let n = 0;
  const server = createServer((s) => {
    seen.push(s);
    s.on('error', () => {});
    void (async () => {
      for await (const r of readRecords(s)) {
        if (r.type === REC_CLEANUP_FLAGS) s.write(encodeRecord(REC.ATTR, `queue_id=ABCDEF${++n}`));
        else if (r.type === REC.END)
          s.write(
            Buffer.concat([
              encodeRecord(REC.ATTR, 'status=0'),
              encodeRecord(REC.ATTR, 'reason='),
              encodeRecord(REC.ATTR, `queue_id=ABCDEF${n}`),
              encodeRecord(REC.END, ''),
            ]),
          );
      }
      s.end();
    })().catch(() => s.destroy());
  });
  return {
    seen,
    listen: () => new Promise<void>((r) => server.listen(path, r)),
    close: () => {
      for (const s of seen) s.destroy();
      server.close();
    },
  };
}

test('messages one at a time: one cleanup connection for all, closed when pickup is idle', async (t) => {
  const fx = await daemonSetup(t);
  const cleanup = standInCleanup(join(fx.queue, 'public', 'cleanup'));
  await cleanup.listen();
  t.after(() => cleanup.close());
  await fx.start('pickup');
  for (let i = 1; i <= 3; i++) {
    assert.equal(fx.sendmail(['-f', 'a@example.com', 'b@example.com'], `Subject: m${i}\n\nx\n`).status, 0);
    await fx.kick();
    await fx.waitEmpty('maildrop');
    await fx.waitLog(new RegExp(`ABCDEF${i}: uid=`));
  }
  assert.equal(cleanup.seen.length, 1, fx.log());
  // Idle: pickup ends the stream (cleanup sees EOF and may stop or idle-exit).
  const conn = cleanup.seen[0] as Socket;
  if (!conn.destroyed)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('pickup kept an idle connection')), 10_000);
      conn.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  assert.match(fx.log(), /ABCDEF3: uid=\d+ from=<a@example.com>/);
});
