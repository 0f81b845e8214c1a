/*
 * The same scenarios against the installed Postfix, live: catches a golden
 * file that has gone stale against the Postfix being compared with.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postfixCommand } from '../harness/index.js';
import { CASES, oursRunner, postfixRunner, transcript } from './cases.js';

// Cases without fatal errors: Postfix sleeps a second after each fatal error.
const LIVE = ['build-hash', 'multiple-maps', 'message-keys', 'utf8-off'];

for (const c of CASES.filter((k) => LIVE.includes(k.name))) {
  test(`${c.area} live vs Postfix: ${c.name}`, (t) => {
    const bins = new Map<string, string>();
    for (const name of ['postmap', 'postalias', 'newaliases']) {
      const p = postfixCommand(t, name);
      if (p === null) return;
      bins.set(name, p);
    }
    const theirs = transcript(
      c,
      postfixRunner((name) => bins.get(name)!),
    );
    const mine = transcript(c, oursRunner);
    assert.equal(mine, theirs);
  });
}
