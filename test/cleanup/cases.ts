/*
 * Messages and settings whose header/body lookup keys are recorded from
 * Postfix's `postmap -h/-b/-m -q - pcre:table` (record_golden.ts) and
 * compared with ours (golden.test.ts): the keys are exactly what cleanup's
 * header_checks, mime_header_checks, nested_header_checks and body_checks
 * get, since postmap and cleanup share one parser.
 */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN, type Run } from '../harness/index.js';

export interface KeyCase {
  readonly name: string;
  readonly mainCf?: string;
  readonly message: string;
}

const MULTIPART = [
  'From: a@example.com',
  'Subject: parts',
  '  folded once',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed;',
  ' boundary="outer"',
  '',
  'preamble',
  '--outer',
  'Content-Type: text/plain; charset=us-ascii',
  'X-Part: one',
  '',
  'first part',
  '--outerjunk',
  'Content-Type: message/rfc822',
  '',
  'Subject: nested',
  'X-Nested: yes',
  '',
  'nested body',
  '--outer',
  'Content-Type: multipart/digest; boundary=dig',
  '',
  '--dig',
  '',
  'X-Digest-Default: rfc822',
  '',
  'digest body',
  '--dig--',
  'after digest',
  '--outer--',
  'epilogue',
].join('\n');

export const CASES: readonly KeyCase[] = [
  { name: 'plain', message: 'From: a@b\nSubject: hi\n\nline 1\n\nline 3\n' },
  { name: 'folded', message: 'Subject: one\n two\n\tthree\nX: y\n\nbody\n' },
  { name: 'no-empty-line', message: 'Subject: x\nnot a header\nbody\n' },
  { name: 'headers-only', message: 'Subject: x\nX-A: b\n  c' },
  { name: 'multipart', message: MULTIPART },
  { name: 'top-rfc822', message: 'Content-Type: message/rfc822\n\nInner: 1\n\ninner body\n' },
  {
    name: 'header-limit',
    mainCf: 'header_size_limit = 30\n',
    message:
      'Subject: 0123456789\n abcdefghij\n KLMNOPQRST\n uvw\nLong: 0123456789012345678901234567890123\n\nb\n',
  },
  {
    name: 'boundary-limit',
    mainCf: 'mime_boundary_length_limit = 4\n',
    message:
      'Content-Type: multipart/mixed; boundary=ABCDEFG\n\n--ABCDxx\nX-P: 1\n\np\n--ABCD--\nX-Not: header\n',
  },
  {
    name: 'nesting-limit',
    mainCf: 'mime_nesting_limit = 1\n',
    message:
      'Content-Type: multipart/mixed; boundary=A\n\n--A\nContent-Type: multipart/mixed; boundary=B\n\n--B\nX-B: 1\n\nb\n--B--\n--A--\n',
  },
  {
    name: 'mime-disabled',
    mainCf: 'disable_mime_input_processing = yes\n',
    message: MULTIPART,
  },
];

/** The option sets each case is run with. */
export const MODES: readonly (readonly string[])[] = [
  ['-h'],
  ['-b'],
  ['-h', '-m'],
  ['-b', '-m'],
  ['-h', '-b', '-m'],
];

export function goldenPath(c: KeyCase): string {
  return join(GOLDEN, 'cleanup', `${c.name}.out`);
}

/** A config dir with main.cf and a pcre table that matches every line. */
export function setup(dir: string, c: KeyCase): { table: string } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.cf'), c.mainCf ?? '');
  const past = new Date(Date.now() - 3600_000);
  utimesSync(join(dir, 'main.cf'), past, past);
  writeFileSync(join(dir, 'all.pcre'), '/^/ SEEN\n');
  return { table: `pcre:${join(dir, 'all.pcre')}` };
}

/** The transcript of every mode for one case, run by `runner`. */
export function transcript(c: KeyCase, dir: string, runner: (args: string[]) => Run): string {
  const { table } = setup(dir, c);
  let out = '';
  for (const mode of MODES) {
    const r = runner(['-c', dir, ...mode, '-q', '-', table]);
    out += `$ postmap ${mode.join(' ')} -q - pcre:all.pcre\n${r.stdout}-- stderr\n${r.stderr.replaceAll(dir, '.')}-- status ${r.status}\n`;
  }
  return out;
}
