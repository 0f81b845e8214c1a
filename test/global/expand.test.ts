/*
 * $name expansion against Postfix: each test/golden/global/expand/<case>.cf
 * is a main.cf; <case>.out is what `postconf -c DIR -xh relayhost` printed.
 * Our reader loads the same main.cf and expands relayhost. postconf's own
 * extras are left out of the comparison: its "undefined/unused parameter" notes
 * (postconf's check, not the expander's), each warning printed twice (it
 * expands in two passes) and whitespace runs that its output folding joins.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadMainConfig } from '../../src/global/config.js';
import { configDir, GOLDEN, postfixCommand } from '../harness/index.js';
import { capture, type Outcome, readGolden } from './capture.js';

const DIR = join(GOLDEN, 'global/expand');
const CASES = readdirSync(DIR)
  .filter((f) => f.endsWith('.cf'))
  .map((f) => f.slice(0, -3))
  .sort();
/** Cases whose answer depends on this host's name or interfaces: compared live only. */
const HOST = new Set([
  'defaults',
  'mydomain_set',
  'mynetworks_host',
  'mynetworks_class',
  'mynetworks_compat',
  'mynetworks_ipv4',
]);

function ours(dir: string): Outcome {
  return capture('postconf', () => {
    const cfg = loadMainConfig({ configDir: dir, macroErrorText: 'macro processing error' });
    return `${fold(cfg.get('relayhost'))}\n`;
  });
}

function fold(value: string): string {
  return value
    .split(/[ \t\n\r\f\v]+/)
    .filter((w) => w !== '')
    .join(' ');
}

function normalize(o: Outcome): Outcome {
  const stderr = o.stderr.filter(
    (l, i, all) => !/: (undefined|unused) parameter: /.test(l) && l !== all[i - 1],
  );
  return { stdout: o.stdout, stderr, exit: o.exit };
}

test('the expansion cases cover every error Postfix reports', () => {
  const all = CASES.map((c) => readFileSync(join(DIR, `${c}.out`), 'utf8')).join('');
  for (const text of [
    'truncated macro reference',
    'empty macro name',
    'attribute name syntax error',
    '":" expected',
    'unexpected input',
    '"{expression}" expected',
    '"?" or ":" expected',
    'bad operator suffix',
    'malformed compatibility level syntax',
    'unbalanced {}',
    'unreasonable macro call nesting',
  ]) {
    assert.ok(all.includes(text), text);
  }
});

for (const name of CASES) {
  test(`expand ${name}`, (t) => {
    const dir = configDir(t, readFileSync(join(DIR, `${name}.cf`), 'utf8'));
    const got = ours(dir);
    if (HOST.has(name)) {
      const postconf = postfixCommand(t, 'postconf');
      if (postconf === null) return;
      writeFileSync(join(dir, 'master.cf'), '');
      const past = new Date(Date.now() - 3600_000);
      utimesSync(join(dir, 'main.cf'), past, past);
      const r = spawnSync(postconf, ['-c', dir, '-xh', 'relayhost'], { encoding: 'utf8' });
      const live = {
        stdout: r.stdout,
        stderr: r.stderr.split('\n').filter((l) => l !== ''),
        exit: r.status ?? -1,
      };
      assert.deepEqual(got, normalize(live));
      return;
    }
    assert.deepEqual(got, normalize(readGolden(join(DIR, `${name}.out`), dir)));
  });
}
