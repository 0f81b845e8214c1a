/*
 * postconf -M/-F/-P against outcomes recorded from Postfix 3.7.11 (stdout,
 * stderr, exit status and the edited master.cf, byte for byte). Every
 * recorded case runs through postconfMaster() in-process (fast); a share of
 * them runs our bin/postconf as a process, as a user would; and a sample
 * runs live against Postfix's own postconf when it is installed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { postconfMaster } from '../../src/cli/postconf_master.js';
import { loadMainConfig } from '../../src/global/config.js';
import { FatalError, msg } from '../../src/global/msg.js';
import { getopt } from '../../src/util/getopt.js';
import { postfixCommand, ROOT, type Run } from '../harness/index.js';
import { caseNames, expected, runCase } from './golden.js';

const OURS = join(ROOT, 'bin', 'postconf');

/** postconf's master.cf modes, called in-process with Postfix's option letters. */
function inProcess(dir: string, args: readonly string[]): Run {
  let stdout = '';
  let stderr = '';
  msg.setProgram('postconf');
  msg.setExitOnFatal(false);
  msg.setSink((_level, line) => {
    stderr += `${line}\n`;
  });
  try {
    const r = getopt(args, 'c:MFPefhHxdnX#');
    if (r.kind !== 'ok') throw new Error(r.message);
    const has = (c: string) => r.opts.some((o) => o.opt === c);
    const mode = has('M') ? 'M' : has('F') ? 'F' : 'P';
    const edit = has('e') ? 'e' : has('X') ? 'X' : has('#') ? '#' : 'none';
    const status = postconfMaster({
      mode,
      edit,
      fold: has('f'),
      noNames: has('h'),
      noValues: has('H'),
      expand: has('x'),
      showDefaults: has('d'),
      nonDefault: has('n'),
      operands: r.operands,
      config: loadMainConfig({ configDir: dir }),
      write: (s) => {
        stdout += Buffer.from(s, 'latin1').toString('utf8');
      },
    });
    return { stdout, stderr, status };
  } catch (e) {
    if (e instanceof FatalError) return { stdout, stderr, status: e.exitCode };
    throw e;
  } finally {
    msg.setSink(null);
    msg.setExitOnFatal(true);
  }
}

for (const name of caseNames()) {
  describe(`master.cf golden: ${name}`, () => {
    expected(name).forEach((want, i) => {
      test(`postconf ${want.args.join(' ')}`, () => {
        // Two of -e -X -# together is postconf.ts's complaint: only the command sees both.
        const edits = want.args
          .filter((a) => /^-[A-Za-z#]+$/.test(a))
          .join('')
          .replace(/[^eX#]/g, '').length;
        if (edits < 2) assert.deepEqual(runCase(inProcess, name, want.args), want);
        // A share of the cases through the real command, to stay fast.
        if (i % 4 === 0 || edits >= 2) assert.deepEqual(runCase(OURS, name, want.args), want);
      });
    });
  });
}

test('live: our postconf and Postfix agree on a sample of the cases', (t) => {
  const theirs = postfixCommand(t, 'postconf');
  if (!theirs) return;
  for (const name of ['variants', 'edit', 'braces', 'expand']) {
    // Postfix sleeps a second before a fatal exit: sample the successful cases.
    const sample = expected(name).filter((c, i) => c.status === 0 && i % 6 === 0);
    for (const { args } of sample) assert.deepEqual(runCase(OURS, name, args), runCase(theirs, name, args));
  }
});
