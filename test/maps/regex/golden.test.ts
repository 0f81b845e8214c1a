/*
 * regexp: and pcre: tables against golden output recorded from Postfix 3.7
 * (see golden.ts, record.ts): through openDict() as daemons use them,
 * through our postmap command as an admin does, and live against Postfix.
 */
import assert from 'node:assert/strict';
import { readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { msg } from '../../../src/global/msg.js';
import { openDict } from '../../../src/maps/index.js';
import { configDir as freshConfigDir, postfixCommand, ROOT } from '../../harness/index.js';
import { type Case, decodeKey, goldenCases, nlLine, queryAll, queryEach, TYPES } from './golden.js';

/** Postfix waits about two seconds for a main.cf changed within the last second: age it. */
function configDir(t: TestContext): string {
  const dir = freshConfigDir(t);
  const past = new Date(Date.now() - 3600_000);
  utimesSync(join(dir, 'main.cf'), past, past);
  return dir;
}

const read = (c: Case, ext: string): string => readFileSync(join(c.dir, `${c.name}.${ext}`), 'utf8');
/** Warnings postmap itself prints about empty results are not the table's. */
const tableOnly = (stderr: string): string =>
  stderr
    .split('\n')
    .filter((l) => !l.startsWith('postmap: warning: table '))
    .join('\n');

/** Open and query in-process, printing what "postmap -q -" would. */
async function inProcess(c: Case): Promise<{ stdout: string; stderr: string; nl: string }> {
  const lines: string[] = [];
  msg.setProgram('postmap');
  msg.setSink((_level, line) => lines.push(line));
  try {
    const path = join(c.dir, c.table);
    const dict = await openDict(`${c.type}:${path}`);
    let stdout = '';
    for (const key of (c.keys ?? '').split('\n').filter(Boolean)) {
      const r = await dict.lookup(key);
      assert.notEqual(r.kind, 'retry');
      if (r.kind === 'found') stdout += `${key}\t${r.value}\n`;
    }
    let nl = '';
    for (const k of c.nl ?? []) {
      const r = await dict.lookup(decodeKey(k));
      const status = r.kind === 'found' ? 0 : 1;
      nl += `${nlLine(k, { stdout: r.kind === 'found' ? `${r.value}\n` : '', stderr: '', status })}\n`;
    }
    await dict.close();
    const stderr = lines.map((l) => `${l.replaceAll(`${c.dir}/`, '')}\n`).join('');
    return { stdout, stderr, nl };
  } finally {
    msg.setSink(null);
  }
}

for (const type of TYPES) {
  for (const c of goldenCases(type)) {
    test(`${type}/${c.name}: openDict() answers as Postfix`, async () => {
      const got = await inProcess(c);
      if (c.keys !== undefined) {
        assert.equal(got.stdout, read(c, 'ref'));
        assert.equal(tableOnly(got.stderr), tableOnly(read(c, 'err')));
      }
      if (c.nl) assert.equal(got.nl, read(c, 'nlref'));
    });

    test(`${type}/${c.name}: our postmap -q answers as Postfix`, (t) => {
      const conf = configDir(t);
      const postmap = join(ROOT, 'bin', 'postmap');
      if (c.keys !== undefined) {
        const r = queryAll(postmap, conf, c);
        assert.equal(r.stdout, read(c, 'ref'));
        assert.equal(r.stderr, read(c, 'err'));
        assert.equal(r.status, 0);
      }
      if (c.nl) assert.equal(queryEach(postmap, conf, c), read(c, 'nlref'));
    });

    test(`${type}/${c.name}: golden files match live Postfix`, (t) => {
      const postmap = postfixCommand(t, 'postmap');
      if (!postmap) return;
      const conf = configDir(t);
      if (c.keys !== undefined) {
        const r = queryAll(postmap, conf, c);
        assert.equal(r.stdout, read(c, 'ref'));
        assert.equal(r.stderr, read(c, 'err'));
      }
      if (c.nl) assert.equal(queryEach(postmap, conf, c), read(c, 'nlref'));
    });
  }
}
