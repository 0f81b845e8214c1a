/*
 * The registry against Postfix's own `postconf -d` (recorded on an empty
 * configuration in test/golden/global/postconf-d.txt, and with Debian's
 * master.cf in services/): every name, every default text. The exceptions
 * are listed here by name, each for a reason docs/parameters.md gives.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Postfix's own ${name} syntax, not JavaScript's
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadMainConfig } from '../../src/global/config.js';
import { INSTALL_ROOT } from '../../src/global/host_defaults.js';
import { defaultText, dynamicSpec, PARAMS, paramSpec, serviceParams } from '../../src/global/params.js';
import { configDir, GOLDEN } from '../harness/index.js';

/** Computed from the host or the process, so they differ from where the golden was recorded. */
const HOST_DEPENDENT = ['myhostname', 'mydomain', 'mynetworks', 'process_id', 'process_name'];
/** Where Postroom's programs are, not Debian's Postfix. */
const INSTALL_DEPENDENT = [
  'command_directory',
  'daemon_directory',
  'mailq_path',
  'newaliases_path',
  'sendmail_path',
];

function readDefaults(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\S+) =(?: (.*))?$/.exec(line);
    if (m) out.set(m[1] as string, m[2] ?? '');
  }
  return out;
}

const GOLD = readDefaults(join(GOLDEN, 'global/postconf-d.txt'));

test('every parameter postconf -d prints is declared, with the same default text', () => {
  assert.equal(GOLD.size, 831);
  assert.deepEqual(Object.keys(PARAMS).sort(), [...GOLD.keys()].sort());
  for (const [name, value] of GOLD) {
    if (HOST_DEPENDENT.includes(name) || INSTALL_DEPENDENT.includes(name)) continue;
    assert.equal(defaultText(name), value, name);
  }
});

test('host- and install-dependent defaults are flagged, and only those', () => {
  for (const [name, spec] of Object.entries(PARAMS)) {
    assert.equal(spec.hostDependent === true, HOST_DEPENDENT.includes(name), name);
    assert.equal(spec.installDependent === true, INSTALL_DEPENDENT.includes(name), name);
  }
  assert.equal(defaultText('command_directory'), join(INSTALL_ROOT, 'bin'));
  assert.equal(defaultText('sendmail_path'), join(INSTALL_ROOT, 'bin/sendmail'));
  assert.equal(defaultText('process_id'), String(process.pid));
  assert.match(defaultText('myhostname') ?? '', /\./);
  assert.equal(defaultText('mail_version'), '3.7.11');
  assert.equal(defaultText('mail_name'), 'Postfix');
});

test('types: time units, booleans, numbers, raw and read-only parameters', () => {
  assert.deepEqual(
    { ...paramSpec('smtpd_timeout') },
    { type: 'time', default: '${stress?{10}:{300}}s', unit: 's', min: 1 },
  );
  assert.equal(paramSpec('bounce_queue_lifetime')?.unit, 'd');
  assert.equal(paramSpec('delay_warning_time')?.unit, 'h');
  assert.equal(paramSpec('smtpd_client_connection_rate_limit')?.type, 'int');
  assert.equal(paramSpec('message_size_limit')?.type, 'long');
  assert.equal(paramSpec('append_dot_mydomain')?.type, 'bool');
  assert.equal(paramSpec('smtp_tls_loglevel')?.type, 'nint');
  assert.equal(paramSpec('lmtp_sasl_auth_enable')?.type, 'nbool');
  assert.equal(paramSpec('compatibility_level')?.type, 'str');
  assert.equal(paramSpec('default_destination_concurrency_positive_feedback')?.type, 'str');
  assert.equal(paramSpec('forward_path')?.type, 'raw');
  assert.equal(paramSpec('smtpd_recipient_limit')?.min, 1);
  assert.deepEqual(
    Object.keys(PARAMS).filter((n) => PARAMS[n]?.readOnly),
    ['process_id', 'process_name', 'service_name'],
  );
  assert.equal(paramSpec('no_such_parameter'), undefined);
  assert.equal(paramSpec('toString'), undefined);
});

test("master.cf services add Postfix's service-dependent names (Debian's master.cf)", () => {
  const dir = join(GOLDEN, 'global/services');
  const gold = readDefaults(join(dir, 'postconf-d.txt'));
  const services = readFileSync(join(dir, 'master.cf'), 'utf8')
    .split('\n')
    .filter((l) => /^[^#\s]/.test(l))
    .map((l) => l.split(/\s+/))
    .map((f) => ({ name: f[0] as string, command: f[7] as string }));
  const ours = new Map<string, string>(Object.keys(PARAMS).map((n) => [n, gold.get(n) ?? '']));
  for (const s of services) {
    for (const [name, spec] of Object.entries(serviceParams(s))) ours.set(name, spec.default as string);
  }
  assert.deepEqual([...ours.keys()].sort(), [...gold.keys()].sort());
  for (const [name, value] of ours) assert.equal(value, gold.get(name), name);
  assert.equal(dynamicSpec('relay_destination_rate_delay', services)?.type, 'time');
  assert.equal(dynamicSpec('maildrop_time_limit', services)?.unit, 's');
  assert.equal(dynamicSpec('discard_destination_concurrency_limit', services), undefined);
  assert.equal(dynamicSpec('smtp_time_limit', services), undefined);
});

test('unused parameters are those postconf -n warns about', (t) => {
  const dir = join(GOLDEN, 'global/unused');
  const main = readFileSync(join(dir, 'main.cf'), 'utf8');
  const master = readFileSync(join(dir, 'master.cf'), 'utf8');
  const services = master
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/))
    .map((f) => ({ name: f[0] as string, command: f[7] as string }));
  const references = [...master.matchAll(/-o \S+?=(\S+)/g)].map((m) => m[1] as string);
  const cfg = loadMainConfig({ configDir: configDir(t, main) });
  const got = cfg.unused(services, references).map((u) => `main.cf: unused parameter: ${u.name}=${u.value}`);
  const want = readFileSync(join(dir, 'postconf-n.out'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('/main.cf: unused parameter'))
    .map((l) => l.replace(/^.*\/main\.cf/, 'main.cf'));
  assert.deepEqual(got.sort(), want.sort());
  assert.ok(cfg.isKnown('myclass'));
  assert.ok(cfg.isKnown('relay_destination_concurrency_limit', services));
  assert.ok(!cfg.isKnown('relay_destination_concurrency_limit'));
});
