#!/usr/bin/env node
/*
 * gen-params - regenerate src/global/params_table.ts from Postfix itself
 *
 * Reads the built-in parameter names and default texts from Postfix's
 * `postconf -d` (run on an empty temporary configuration, so no master.cf
 * service adds names) and derives each parameter's type from the shape of
 * its default and from postconf(5) (/usr/share/doc/postfix/html/postconf.5.html:
 * "time unit", "default time unit is"). The output is committed: building
 * and testing Postroom never runs this script. Run it after a Postfix
 * upgrade, then `npx biome check --write src/global/params_table.ts` and
 * review the diff by hand.
 *
 * Usage: node scripts/gen-params.mjs [/path/to/postconf] [/path/to/postconf.5.html]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const postconf = process.argv[2] ?? '/usr/sbin/postconf';
const manual = process.argv[3] ?? '/usr/share/doc/postfix/html/postconf.5.html';
const out = join(dirname(fileURLToPath(import.meta.url)), '../src/global/params_table.ts');

const dir = mkdtempSync(join(tmpdir(), 'gen-params-'));
writeFileSync(join(dir, 'main.cf'), '');
writeFileSync(join(dir, 'master.cf'), '');
const text = execFileSync(postconf, ['-c', dir, '-d'], { encoding: 'utf8' });
rmSync(dir, { recursive: true, force: true });

/** name -> default text, in postconf's (sorted) order. */
const defaults = new Map();
for (const line of text.split('\n')) {
  if (line === '') continue;
  const m = /^(\S+) =(?: (.*))?$/.exec(line);
  if (!m) throw new Error(`unexpected postconf -d line: ${line}`);
  defaults.set(m[1], m[2] ?? '');
}

/** name -> the postconf(5) entry's text, tags removed. */
const html = readFileSync(manual, 'latin1');
const entries = new Map();
const parts = html.split(/<DT><b><a name="/);
for (const part of parts.slice(1)) {
  const name = part.slice(0, part.indexOf('"'));
  const end = part.indexOf('</DD>');
  entries.set(name, part.slice(0, end < 0 ? undefined : end).replace(/<[^>]*>/g, '').replace(/\s+/g, ' '));
}

// Learned by experiment (see docs/parameters.md): postconf -x leaves these
// unexpanded, and refuses assignments to the read-only ones.
const RAW = new Set([
  'command_execution_directory',
  'default_rbl_reply',
  'forward_path',
  'luser_relay',
  'mailbox_command',
  'postscreen_expansion_filter',
  'postscreen_reject_footer',
  'smtpd_expansion_filter',
  'smtpd_reject_footer',
]);
const READ_ONLY = new Set(['process_id', 'process_name', 'service_name']);
// Computed from the host or from where Postroom is installed: host_defaults.ts.
const HOST = new Set(['myhostname', 'mydomain', 'mynetworks', 'process_id', 'process_name']);
const INSTALL = new Set([
  'command_directory',
  'daemon_directory',
  'sendmail_path',
  'newaliases_path',
  'mailq_path',
]);
// Numbers and yes/no look-alikes that Postfix keeps as strings.
const STRINGS = new Set([
  'compatibility_level',
  'mail_release_date',
  'mail_version',
  'process_id',
  'lmtp_tcp_port',
  'smtp_tcp_port',
  'inet_protocols',
]);
const LONGS = new Set(['message_size_limit', 'mailbox_size_limit', 'virtual_mailbox_limit', 'queue_minfree']);

/** The value a default takes without stress and at the current compatibility level. */
function shape(value) {
  let v = value;
  for (let i = 0; i < 5; i++) {
    v = v
      .replace(/\$\{stress\?\{[^{}]*\}:\{([^{}]*)\}\}/g, '$1')
      .replace(/\$\{\{\$compatibility_level\} <level \{[^{}]*\} \? \{([^{}]*)\} : \{[^{}]*\}\}/g, '$1')
      .replace(/\$\{\w+\?\{(?:[^{}]|\{[^{}]*\})*\}:\{([^{}]*)\}\}/g, '$1');
  }
  return v;
}

function typeOf(name, seen = new Set()) {
  if (RAW.has(name)) return { type: 'raw' };
  if (STRINGS.has(name)) return { type: 'str' };
  if (/_feedback$/.test(name)) return { type: 'str' };
  const value = shape(defaults.get(name) ?? '');
  const doc = entries.get(name) ?? '';
  const unitDoc = /default time unit is (\w)/.exec(doc)?.[1];
  const timeDoc = /Time units: s|default time unit is|followed by a unit of time|specifies the time unit/.test(doc);
  let m = /^\d+([smhdw])$/.exec(value);
  if (m || timeDoc) {
    if (m || /^\$\w+$/.test(value) || /^\d+$/.test(value)) {
      return { type: 'time', unit: unitDoc ?? m?.[1] ?? 's', doc };
    }
  }
  if (/^(yes|no)$/.test(value)) return { type: 'bool' };
  if (/^-?\d+$/.test(value)) return { type: LONGS.has(name) ? 'long' : 'int', doc };
  m = /^\$\{?(\w+)\}?$/.exec(value);
  if (m && defaults.has(m[1]) && !seen.has(m[1])) {
    seen.add(name);
    const t = typeOf(m[1], seen);
    if (t.type !== 'raw') return { ...t, unit: t.type === 'time' ? (unitDoc ?? t.unit) : undefined, doc };
  }
  return { type: 'str' };
}

/** smtp(8) and lmtp(8) are one program: their int/bool parameters are chosen by name. */
function named(name, type) {
  const pair = /^(smtp|lmtp)_(.*)$/.exec(name);
  if (!pair || (type !== 'int' && type !== 'bool')) return type;
  const other = `${pair[1] === 'smtp' ? 'lmtp' : 'smtp'}_${pair[2]}`;
  return defaults.has(other) ? (type === 'int' ? 'nint' : 'nbool') : type;
}

const lines = [];
for (const [name, value] of defaults) {
  const t = typeOf(name);
  const type = named(name, t.type);
  const opts = [];
  if (t.type === 'time') opts.push(`unit: '${t.unit}'`);
  if (t.type === 'time' || t.type === 'int' || t.type === 'long') {
    const positive = /non-zero|positive|greater than zero|at least 1\b/.test(t.doc ?? '');
    opts.push(`min: ${positive ? 1 : 0}`);
  }
  if (READ_ONLY.has(name)) opts.push('readOnly: true');
  if (HOST.has(name)) opts.push('hostDependent: true');
  if (INSTALL.has(name)) opts.push('installDependent: true');
  const def = HOST.has(name) || INSTALL.has(name) ? `HOST.${name}` : JSON.stringify(value);
  lines.push(`  ${JSON.stringify(name)}: p('${type}', ${def}${opts.length ? `, { ${opts.join(', ')} }` : ''}),`);
}

writeFileSync(
  out,
  `/*
 * params_table - every parameter that Postfix 3.7.11's \`postconf -d\` prints
 *
 * GENERATED by scripts/gen-params.mjs from postconf -d and postconf(5); edit
 * the generator (or params.ts for hand-made corrections), not this file.
 * Defaults are Postfix's text, unexpanded. min is derived from postconf(5)'s
 * wording ("non-zero") and is 0 otherwise; corrections live in params.ts.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Postfix's own \${name} syntax, not JavaScript's
import * as HOST from './host_defaults.js';
import { type ParamSpec, p } from './params_spec.js';

export const GENERATED: Readonly<Record<string, ParamSpec>> = {
${lines.join('\n')}
};
`,
);
console.log(`wrote ${defaults.size} parameters to ${out}`);
