/*
 * The master.cf parser as the master daemon will use it: typed fields,
 * "-o" settings, master(5) defaults, inet endpoints, and no exception
 * other than MasterCfError whatever the text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  lastOfEach,
  MasterCfError,
  parseInetName,
  parseMasterCf,
  resolveEntry,
  serviceParameters,
} from '../../src/master/master_cf.js';

const TEXT = `# comment
smtp      inet  n       -       y       -       -       smtpd
  -o { smtpd_client_restrictions = permit_mynetworks, reject }
#  -o commented=out
  -osyslog_name=postfix/smtp -v
pickup    unix  n       -       y       60      1       pickup
tlsmgr    unix  -       -       y       1000?   1       tlsmgr
[::1]:2525 inet n - n - 0 smtpd
pickup    unix  n       -       n       30      1       pickup2
`;

test('entries carry fields, lines, normalized arguments and -o settings', () => {
  const cf = parseMasterCf(TEXT, '/etc/postfix/master.cf');
  assert.equal(cf.entries.length, 5);
  const smtp = cf.entries[0]!;
  assert.deepEqual(
    [smtp.line, smtp.lastLine, smtp.name, smtp.type, smtp.chroot],
    [2, 5, 'smtp', 'inet', 'y'],
  );
  // "-osyslog_name=postfix/smtp" splits at each "o" as Postfix 3.7 does.
  assert.deepEqual(smtp.args, [
    '-o',
    'smtpd_client_restrictions=permit_mynetworks, reject',
    '-o',
    'sysl',
    '-o',
    'g_name=p',
    '-o',
    'stfix/smtp',
    '-v',
  ]);
  assert.deepEqual(serviceParameters(smtp), [
    { name: 'g_name', value: 'p' },
    { name: 'smtpd_client_restrictions', value: 'permit_mynetworks, reject' },
  ]);
  assert.deepEqual(
    lastOfEach(cf.entries).map((e) => e.command),
    ['smtpd', 'tlsmgr', 'smtpd', 'pickup2'],
  );
});

test('defaults and endpoints as master(5) says', () => {
  const cf = parseMasterCf(TEXT, 'master.cf');
  const [smtp, pickup, tlsmgr, v6] = cf.entries.map((e) => resolveEntry('master.cf', e, 100));
  assert.deepEqual(
    [smtp!.private, smtp!.unprivileged, smtp!.chroot, smtp!.processLimit, smtp!.wakeupSeconds],
    [false, true, true, 100, 0],
  );
  assert.deepEqual(smtp!.endpoint, { kind: 'inet', host: null, port: 'smtp' });
  assert.deepEqual(pickup!.endpoint, { kind: 'local', path: 'public/pickup' });
  assert.deepEqual([tlsmgr!.wakeupSeconds, tlsmgr!.wakeupWhenUsed, tlsmgr!.private], [1000, true, true]);
  assert.deepEqual(tlsmgr!.endpoint, { kind: 'local', path: 'private/tlsmgr' });
  assert.deepEqual([v6!.endpoint, v6!.processLimit], [{ kind: 'inet', host: '::1', port: '2525' }, 0]);
  assert.deepEqual(parseInetName('127.0.0.1:smtp'), { host: '127.0.0.1', port: 'smtp' });
  assert.deepEqual(parseInetName('::1:smtp'), { host: '::1', port: 'smtp' });
  assert.deepEqual(parseInetName('10025'), { host: null, port: '10025' });
  const bad = parseMasterCf('smtp inet - - n - - smtpd\n', 'master.cf').entries[0]!;
  assert.throws(
    () => resolveEntry('master.cf', bad, 100),
    /master\.cf: line 1: inet service cannot be private/,
  );
});

test('bad rows are MasterCfError in Postfix words; nothing else is ever thrown', () => {
  assert.throws(() => parseMasterCf('a\n  b\n', 'f'), { message: 'file f: line 1: bad field count' });
  assert.throws(() => parseMasterCf('a inet n - n 5?? - x\n', 'f'), {
    message: 'invalid wakeup field "5??" in "a inet n - n 5?? - x"',
  });
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
      try {
        parseMasterCf(text, 'f', () => {});
      } catch (e) {
        if (!(e instanceof MasterCfError)) throw e;
      }
    }),
    { numRuns: 500 },
  );
});
