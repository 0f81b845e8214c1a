/*
 * DSN status codes, NOTIFY/RET flags and the dsn= log text (src/global/dsn.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  DSN_NOTIFY_DELAY,
  DSN_NOTIFY_FAILURE,
  DSN_NOTIFY_NEVER,
  DSN_NOTIFY_SUCCESS,
  DSN_RET_FULL,
  DSN_RET_HDRS,
  defaultAction,
  dsnLogText,
  isValidStatus,
  notifyText,
  parseNotify,
  parseRet,
  parseStatus,
  statusClass,
  statusFromReply,
  wantsNotice,
} from '../../src/global/dsn.js';

test('valid and invalid enhanced status codes', () => {
  for (const s of ['2.0.0', '4.4.1', '5.1.1', '5.7.999', '4.999.0']) assert.ok(isValidStatus(s), s);
  for (const s of ['', '3.0.0', '5.01.1', '5.1.1000', '5.1', '5.1.1 ', 'x.1.1', '55.1.1', '5..1']) {
    assert.ok(!isValidStatus(s), s);
  }
  assert.equal(statusClass('4.2.2'), 4);
  assert.throws(() => statusClass('6.0.0'), RangeError);
});

test('a status is found at the start of a reply, after an SMTP code of the same class', () => {
  assert.deepEqual(parseStatus('550 5.1.1 <u@x>: User unknown'), {
    status: '5.1.1',
    text: '<u@x>: User unknown',
  });
  assert.deepEqual(parseStatus('450-4.2.0 try later'), { status: '4.2.0', text: 'try later' });
  assert.deepEqual(parseStatus('4.4.1 connect timeout'), { status: '4.4.1', text: 'connect timeout' });
  assert.deepEqual(parseStatus('550 4.1.1 mismatch'), { status: undefined, text: '550 4.1.1 mismatch' });
  assert.deepEqual(parseStatus('550 no code here'), { status: undefined, text: '550 no code here' });
  assert.equal(statusFromReply('554 transaction failed', '4.0.0'), '5.0.0');
  assert.equal(statusFromReply('452 5.0.0 odd', '4.0.0'), '4.0.0');
  assert.equal(statusFromReply('550 5.7.1 denied', '4.0.0'), '5.7.1');
  assert.equal(statusFromReply('local trouble', '4.3.0'), '4.3.0');
});

test('actions, log text', () => {
  assert.equal(defaultAction('2.0.0'), 'delivered');
  assert.equal(defaultAction('4.4.1'), 'delayed');
  assert.equal(defaultAction('5.1.1'), 'failed');
  assert.equal(dsnLogText('5.1.1'), ', dsn=5.1.1');
  assert.throws(() => dsnLogText('bogus'), RangeError);
});

test('NOTIFY and RET', () => {
  assert.equal(parseNotify('never'), DSN_NOTIFY_NEVER);
  assert.equal(parseNotify('SUCCESS,delay'), DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY);
  for (const bad of ['', 'NEVER,SUCCESS', 'FAILURE,FAILURE', 'SOMETIMES', 'SUCCESS,']) {
    assert.equal(parseNotify(bad), undefined, bad);
  }
  assert.equal(notifyText(DSN_NOTIFY_FAILURE | DSN_NOTIFY_SUCCESS), 'SUCCESS,FAILURE');
  assert.equal(parseRet('hdrs'), DSN_RET_HDRS);
  assert.equal(parseRet('FULL'), DSN_RET_FULL);
  assert.equal(parseRet('BOTH'), undefined);
  assert.ok(wantsNotice(0, 'failure') && wantsNotice(0, 'delay') && !wantsNotice(0, 'success'));
  assert.ok(!wantsNotice(DSN_NOTIFY_NEVER, 'failure'));
  assert.ok(wantsNotice(DSN_NOTIFY_SUCCESS, 'success') && !wantsNotice(DSN_NOTIFY_SUCCESS, 'delay'));
});

test('NOTIFY text round-trips for every valid combination', () => {
  fc.assert(
    fc.property(fc.subarray(['SUCCESS', 'FAILURE', 'DELAY'], { minLength: 1 }), (words) => {
      const mask = parseNotify(words.join(',').toLowerCase());
      assert.ok(mask !== undefined);
      assert.equal(parseNotify(notifyText(mask)), mask);
    }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 5 }), fc.nat(999), fc.nat(999), (c, s, d) => {
      assert.equal(isValidStatus(`${c}.${s}.${d}`), c !== 3);
    }),
  );
});
