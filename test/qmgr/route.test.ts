/*
 * route.ts: destination queue names (per recipient for one-recipient
 * transports, extension cut at any recipient_delimiter character) and the
 * content-filter override, checked as plain functions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MainConfig } from '../../src/global/config.js';
import { filtered, isDoubleBounce, queueName } from '../../src/qmgr/route.js';
import { Transport } from '../../src/qmgr/transport.js';

const limits = (recipientLimit: number) => ({
  recipientLimit,
  concurrencyLimit: 2,
  processLimit: 0,
  failedCohortLimit: 1,
  initialConcurrency: 5,
  destinationRateDelay: 0,
  transportRateDelay: 0,
});

test('queue names: nexthop, or localpart@nexthop without extension for one-recipient transports', () => {
  const smtp = new Transport('smtp', '/nonexistent', limits(50), 1000);
  const local = new Transport('local', '/nonexistent', limits(1), 1000);
  const retry = new Transport('retry', '/nonexistent', limits(1), 1000);
  assert.equal(queueName(smtp, 'Example.COM', 'Bob+x@example.com', '+'), 'example.com');
  assert.equal(queueName(local, 'MX.example.com', 'Bob+x@example.com', '+'), 'bob@mx.example.com');
  assert.equal(queueName(local, 'mx', 'bob-a+b@x', '+-'), 'bob@mx', 'the first delimiter character found');
  assert.equal(queueName(local, 'mx', '+bob@x', '+'), '+bob@mx', 'a leading delimiter is no extension');
  assert.equal(queueName(local, 'mx', 'bob+x@x', ''), 'bob+x@mx');
  assert.equal(queueName(retry, '4.3.2 Deferred transport', 'bob@x', '+'), '4.3.2 deferred transport');
});

test('content filter: transport and nexthop, else default_filter_nexthop, domain, myhostname', () => {
  const cfg = new MainConfig('/nonexistent', 'myhostname = mx.example.com\ndefer_transports = slow\n');
  assert.deepEqual(filtered(cfg, 'smtp:[127.0.0.1]:10025', 'bob@example.com'), {
    transport: 'smtp',
    nexthop: '[127.0.0.1]:10025',
    recipient: 'bob@example.com',
    flags: 0,
    defer: false,
  });
  assert.equal(filtered(cfg, 'smtp:', 'bob@example.com').nexthop, 'example.com');
  assert.equal(filtered(cfg, 'smtp', 'bob').nexthop, 'mx.example.com');
  assert.equal(filtered(cfg, 'slow:x', 'bob').defer, true);
  const withDefault = new MainConfig('/nonexistent', 'default_filter_nexthop = [10.0.0.1]\n');
  assert.equal(filtered(withDefault, 'smtp', 'bob@example.com').nexthop, '[10.0.0.1]');
});

test('double-bounce address: local part, any case', () => {
  assert.equal(isDoubleBounce('Double-Bounce@mx.example.com', 'double-bounce'), true);
  assert.equal(isDoubleBounce('double-bounce', 'double-bounce'), true);
  assert.equal(isDoubleBounce('double-bounced@x', 'double-bounce'), false);
});
