import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { RpcClient, RpcError, rpcCall, serveRpc } from '../../src/global/rpc.js';
import { tempDir } from '../harness/index.js';

function listen(path: string, handler: Parameters<typeof serveRpc>[1]) {
  const server = createServer((s) => serveRpc(s, handler, { maxLine: 1024 }));
  return new Promise<typeof server>((r) => server.listen(path, () => r(server)));
}

test('replies come back to the right call, in the order they finish', async (t) => {
  const path = join(tempDir(t), 'svc');
  const server = await listen(path, async (req) => {
    await new Promise((r) => setTimeout(r, Number(req.wait)));
    return { echo: req.value };
  });
  t.after(() => server.close());
  const c = new RpcClient(path);
  t.after(() => c.close());
  const order: string[] = [];
  const calls = [
    c.call({ wait: 60, value: 'slow' }).then((r) => order.push(String(r.echo))),
    c.call({ wait: 0, value: 'fast' }).then((r) => order.push(String(r.echo))),
    c.call({ wait: 30, value: 'middle \n"quoted"\u0000' }).then((r) => order.push(String(r.echo))),
  ];
  assert.equal(c.inFlight, 3);
  await Promise.all(calls);
  assert.deepEqual(order, ['fast', 'middle \n"quoted"\u0000', 'slow']);
  assert.equal(c.inFlight, 0);
});

test('a handler that throws gives the caller an RpcError with its reason', async (t) => {
  const path = join(tempDir(t), 'svc');
  const server = await listen(path, () => {
    throw new Error('table lookup failed');
  });
  t.after(() => server.close());
  await assert.rejects(rpcCall(path, { request: 'x' }), (e: Error) => {
    assert.ok(e instanceof RpcError);
    assert.match(e.message, /table lookup failed/);
    return true;
  });
});

test('no service, a dropped connection and a timeout all settle the call', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(rpcCall(join(dir, 'nothing'), {}), /no such service/);

  const dropPath = join(dir, 'drop');
  const drop = createServer((s) => s.destroy());
  await new Promise<void>((r) => drop.listen(dropPath, r));
  t.after(() => drop.close());
  await assert.rejects(rpcCall(dropPath, {}), RpcError);

  const slowPath = join(dir, 'slow');
  const slow = await listen(slowPath, () => new Promise(() => {}));
  t.after(() => slow.close());
  await assert.rejects(rpcCall(slowPath, {}, { timeoutMs: 50 }), /no reply in 0.05 s/);
});

test('the client reconnects after the service went away', async (t) => {
  const path = join(tempDir(t), 'svc');
  let server = await listen(path, () => ({ n: 1 }));
  const c = new RpcClient(path);
  t.after(() => c.close());
  assert.equal((await c.call({})).n, 1);
  await new Promise<void>((r) => {
    server.close(() => r());
    // close() waits for open connections: drop ours from the client side.
    c.close();
  });
  server = await listen(path, () => ({ n: 2 }));
  t.after(() => server.close());
  assert.equal((await c.call({})).n, 2);
});

test('a request line over the limit or not JSON ends the connection, not the service', async (t) => {
  const path = join(tempDir(t), 'svc');
  const server = await listen(path, () => ({ ok: true }));
  t.after(() => server.close());
  await assert.rejects(rpcCall(path, { big: 'x'.repeat(2000) }), RpcError);
  const { connect } = await import('node:net');
  const closed = await new Promise<boolean>((resolve) => {
    const s = connect(path, () => s.write('not json\n'));
    s.on('close', () => resolve(true));
    s.on('error', () => {});
  });
  assert.ok(closed);
  assert.equal((await rpcCall(path, {})).ok, true);
});
