/*
 * Running a postconf -t/-b case (cases.ts) with either postconf, and
 * comparing a run with the one recorded from Postfix.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumpTemplate, type TemplateKind } from '../../src/bounce/template.js';
import { DEFAULT_TEMPLATES } from '../../src/bounce/template_defaults.js';
import { GOLDEN } from '../harness/index.js';
import type { Case } from './cases.js';

/** stdout as bytes (one character a byte), stderr as text. */
export type Result = { stdout: string; stderr: string; status: number | null };
export type Golden = Record<string, Partial<Record<'t' | 'b', Result>>>;

export const GOLDEN_FILE = join(GOLDEN, 'bounce', 'golden.json');

export function readGolden(): Golden {
  return JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as Golden;
}

export function runCase(postconf: string, c: Case, mode: 't' | 'b'): Result {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-bounce-'));
  try {
    const past = new Date(Date.now() - 3600_000);
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'main.cf'), Buffer.from(c.mainCf, 'latin1'));
    utimesSync(join(dir, 'conf', 'main.cf'), past, past);
    if (c.tpl !== undefined) {
      writeFileSync(join(dir, 'tpl.cf'), Buffer.from(c.tpl, 'latin1'));
      utimesSync(join(dir, 'tpl.cf'), past, past);
    }
    const args = c.args ?? (c.tpl !== undefined ? ['tpl.cf'] : []);
    const { MAIL_CONFIG: _, ...env } = process.env;
    const r = spawnSync(postconf, ['-c', 'conf', `-${mode}`, ...args], { cwd: dir, env, timeout: 30_000 });
    if (r.error) throw r.error;
    // Postfix names itself by argv[0] before it reads main.cf.
    const stderr = r.stderr.toString('utf8').replaceAll(`${postconf}: `, 'postconf: ');
    return { stdout: r.stdout.toString('latin1'), stderr, status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HEAD =
  /^(?:(failure|delay|success|verify)_template|expanded_(failure|delay|success|verify)_text) = <<EOF$/;

/** The output cut into its templates: [kind, text of its section]. */
export function sections(stdout: string): Array<[TemplateKind, string]> {
  const out: Array<[TemplateKind, string]> = [];
  for (const line of stdout.split(/(?<=\n)/)) {
    const m = HEAD.exec(line.replace(/\n$/, ''));
    if (m) out.push([(m[1] ?? m[2]) as TemplateKind, line]);
    else if (out.length > 0) (out.at(-1) as [TemplateKind, string])[1] += line;
  }
  return out;
}

/**
 * Ours against Postfix's: stderr and status exactly, the order of the
 * templates, the case's own templates byte for byte, and for built-in
 * ones (Postroom's wording) the facts they expand to.
 */
export function assertSameRun(ours: Result, postfix: Result, c: Case, mode: 't' | 'b'): void {
  const what = `${c.name} -${mode}`;
  assert.equal(ours.stderr, postfix.stderr, `${what}: stderr`);
  assert.equal(ours.status, postfix.status, `${what}: status`);
  if (postfix.stdout === '' || (mode === 'b' && c.custom.length === 4)) {
    assert.equal(ours.stdout, postfix.stdout, `${what}: stdout`);
    return;
  }
  const a = sections(ours.stdout);
  const b = sections(postfix.stdout);
  assert.deepEqual(
    a.map(([k]) => k),
    b.map(([k]) => k),
    `${what}: templates in the output`,
  );
  assert.equal(ours.stdout.endsWith('EOF\n'), postfix.stdout.endsWith('EOF\n'), `${what}: output end`);
  a.forEach(([kind, text], i) => {
    const theirs = (b[i] as [TemplateKind, string])[1];
    if (c.custom.includes(kind)) {
      const mine = builtInHeaders(text, ourDefaults(kind));
      assert.equal(mine, builtInHeaders(theirs, postfixDefaults(kind)), `${what}: ${kind} template`);
    } else assert.deepEqual(facts(text), facts(theirs), `${what}: facts of the built-in ${kind} template`);
  });
}

/**
 * What a built-in template says whatever its wording: the header labels
 * (and the Charset), the host name, the hours and days of a delay notice,
 * and whether $names are left unexpanded.
 */
function facts(text: string): Record<string, unknown> {
  const lines = text.split('\n');
  const blank = lines.indexOf('');
  const head = lines[0]?.endsWith('_template = <<EOF') ? lines.slice(1, blank) : [];
  return {
    labels: head.map((l) => l.slice(0, l.indexOf(':'))),
    charset: head.find((l) => l.startsWith('Charset:')),
    host: /mail system at (?:host )?([^\s]+?)\.?$/m.exec(text)?.[1],
    hours: /(\S+) hour\(s\)/.exec(text)?.[1],
    days: /(\S+) day\(s\)/.exec(text)?.[1],
    names: [...text.matchAll(/\$[a-z_]+/g)].map((m) => m[0]).sort(),
  };
}

/** The built-in template of kind as our postconf -t prints it. */
function ourDefaults(kind: TemplateKind): string {
  return dumpTemplate(DEFAULT_TEMPLATES[kind]);
}

/** The built-in template of kind as Postfix's postconf -t printed it. */
function postfixDefaults(kind: TemplateKind): string {
  const t = readGolden().defaults?.t?.stdout ?? '';
  return sections(t).find(([k]) => k === kind)?.[1] ?? '';
}

/**
 * A -t section with each header line that is the built-in one written as
 * "Label: (built-in)": a template file that leaves out a header gets the
 * built-in value, whose wording is Postroom's own.
 */
function builtInHeaders(section: string, builtIn: string): string {
  const head = (s: string): string[] => {
    const lines = s.split('\n');
    return lines.slice(1, lines.indexOf(''));
  };
  const defaults = new Set(head(builtIn));
  const lines = section.split('\n');
  if (!lines[0]?.endsWith('_template = <<EOF')) return section;
  const end = lines.indexOf('');
  for (let i = 1; i < end; i++) {
    const l = lines[i] as string;
    if (defaults.has(l)) lines[i] = `${l.slice(0, l.indexOf(':'))}: (built-in)`;
  }
  return lines.join('\n');
}
