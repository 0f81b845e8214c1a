/*
 * Record the golden files of the "other" table types from Postfix 3.7:
 *   npx tsc -p . && node dist/test/maps/other/record_golden.js [type...]
 * Runs /usr/sbin/postmap -c <temp dir> on each case below and writes
 * test/golden/maps/<type>/golden.json. Never touches /etc/postfix.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../harness/index.js';
import {
  type CaseSpec,
  type GoldenCase,
  withDir,
  withoutDir,
  writeCaseFiles,
  writeGolden,
} from './golden.js';

const MIXED = `# comment
192.168.1.0/24\tlan
10.0.0.1\tsingle
10.0.0.1/33\tbadmask
10.0.0.1/8\thostbits
1.2.3.4.5/32\tbadaddr
2001:db8::/32\tv6net
::ffff:1.2.3.0/120\tmapped
  indented continuation
0.0.0.0/0\tdefault value
 with continuation
!192.168.2.0/24 negated
if 172.16.0.0/12
172.16.1.0/24\tinner
endif
if !172.16.0.0/12
9.9.9.9\tnotin
endif
endif
if 1.2.3.0/24
nomask
[10.1.2.3]\tbracket
10.1.2.3/\temptymask
10.1.2.3/-1\tnegmask
fe80::1%eth0\tscoped
::1/128\tloop
`;
const KEYS = `1.2.3.4
[5.6.7.8]
5.6.7.8
2001:db8::5
2001:db8::7
::ffff:9.9.9.9
::FFFF:1.2.3.4
1.2.3.04
010.0.0.1
8.0.0.1
10.0.0.1
2001:db8::9
1.2.3
 1.2.3.4
fe80::1%eth0
::
172.16.1.1
192.168.1.5
192.168.2.1
::1
foo
`;
const ADDRS = `1.2.3.4
[5.6.7.8]
2001:db8:0::7
::ffff:0:0/96
010.0.0.1
10.000.0.2
2001:0db8::0009
0.0.0.0/0
::/0
`
  .split('\n')
  .filter((l) => l !== '')
  .map((p, i) => `${p}\tv${i + 1}`)
  .join('\n');
const BAD = `1.2.3.4
1.2.3.0/08\tleadzero mask
1.2.3.0/+8\tplus
1.2.3.0/24x\ttrailing
::/129\tbig6
::1/64\thostbits6
if
if 1.2.3.4 extra
endif extra
IF 5.0.0.0/8
ENDIF
!\tbang
!!1.2.3.4\tbangbang
! 1.2.3.4\tbangspace
if ! 1.2.3.4
endif
if !1.2.3.4 junk
endif
2001:db8::/0x10\thexmask
1:2:3:4:5:6:7:8:9\ttoolong
1::2::3\ttwodouble
1:2:3:4:5:6:7:8::\tninegroups
1:2:3:4:5:6:7::\tsevenplus
::1.2.3.4\tcompat
1.2.3.4.5/x\tboth
1.2.3.4.5/99\tboth2
[1.2.3.0]/2x\ta
[1.2.3.4]/24\tb
[1.2.3.1\tbr3
[1.2.3.0]x\tg
1.2.3.0/24/8\td
2001:db8:1:2:3:4:5:6/64\tg
::2:3/112\th
::ffff:1.2.3.4/120\ti
[]\tj
[]/8\tk
1.2.3.4/024\tm
1.2.3.0/  n
if!5.0.0.0/8
5.1.1.1\tinif
endif
ifx\tval
endif\t
endif# x
if\t[6.0.0.0/8]
endif
 leading continuation
6.0.0.0/8\t  x  y  \t
7.0.0.0/8\tq\r
if 1.0.0.0/8
if 1.2.0.0/16
if !::/0
`;

const CASES: Record<string, CaseSpec[]> = {
  cidr: [
    {
      name: 'mixed rules, warnings, first match',
      files: { 't.cidr': MIXED },
      args: ['-q', '-', 'cidr:$DIR/t.cidr'],
      stdin: KEYS,
    },
    {
      name: 'address forms as inet_pton reads them',
      files: { 'k.cidr': ADDRS },
      args: ['-q', '-', 'cidr:$DIR/k.cidr'],
      stdin: KEYS,
    },
    {
      name: 'bad rules and if/endif',
      files: { 'b.cidr': BAD },
      args: ['-q', '-', 'cidr:$DIR/b.cidr'],
      stdin: KEYS,
    },
    {
      name: 'single query found',
      files: { 't.cidr': MIXED },
      args: ['-q', '192.168.1.77', 'cidr:$DIR/t.cidr'],
    },
    {
      name: 'single query not an address',
      files: { 't.cidr': MIXED },
      args: ['-q', 'example.com', 'cidr:$DIR/t.cidr'],
    },
    {
      name: 'comments do not end a continued rule',
      files: { 'c.cidr': '1.2.3.0/24\ta\n# c\n  b\n  # indented\n  c\n\n  d\n' },
      args: ['-q', '1.2.3.4', 'cidr:$DIR/c.cidr'],
    },
    {
      name: 'file starting with a continuation line',
      files: { 'h.cidr': '#x\n\n  1.2.3.4 lead\n  more\n1.2.3.0/24\n  val\n' },
      args: ['-q', '1.2.3.4', 'cidr:$DIR/h.cidr'],
    },
    { name: 'sequence unsupported', files: { 'k.cidr': ADDRS }, args: ['-s', 'cidr:$DIR/k.cidr'] },
    { name: 'missing file', args: ['-q', '1.2.3.4', 'cidr:$DIR/nonexistent'] },
    { name: 'empty file', files: { 'e.cidr': '' }, args: ['-q', '1.2.3.4', 'cidr:$DIR/e.cidr'] },
    {
      name: 'inline rules',
      args: ['-q', '-', 'cidr:{ {if 1.2.3.0/24}, {1.2.3.4  a  b }, {endif}, {bad x}, {::/0 six} }'],
      stdin: '1.2.3.4\n::1\n1.2.3.5\n',
    },
    { name: 'inline empty', args: ['-q', '1.2.3.4', 'cidr:{ }'] },
    { name: 'inline rule without braces', args: ['-q', '1.2.3.4', 'cidr:{ {1.2.3.4 a}, 5.6.7.8 }'] },
    { name: 'inline text after brace', args: ['-q', '1.2.3.4', 'cidr:{{1.2.3.4 a}x}'] },
    { name: 'inline unbalanced', args: ['-q', '1.2.3.4', 'cidr:{ {1.2.3.0/24 a b}'] },
    { name: 'inline no outer braces', args: ['-q', '1.2.3.4', 'cidr:{1.2.3.0/24 a b}'] },
  ],
  static: [
    { name: 'plain', args: ['-q', 'anything', 'static:foo'] },
    { name: 'spaces kept in plain name', args: ['-q', 'k', 'static:a b'] },
    { name: 'braces strip outer whitespace', args: ['-q', 'k', 'static:{ text with  spaces }'] },
    { name: 'nested braces kept', args: ['-q', 'k', 'static:{a{b}c}'] },
    { name: 'inner braces', args: ['-q', 'k', 'static:{ {a} }'] },
    { name: 'brace not first', args: ['-q', 'k', 'static:x{a}'] },
    { name: 'missing close brace', args: ['-q', 'k', 'static:{text'] },
    { name: 'text after brace', args: ['-q', 'k', 'static:{a} b'] },
    { name: 'space after brace', args: ['-q', 'k', 'static:{a} '] },
    { name: 'many keys', args: ['-q', '-', 'static:OK'], stdin: 'a\nB\n\n' },
    { name: 'sequence unsupported', args: ['-s', 'static:foo'] },
  ],
  inline: [
    {
      name: 'plain pairs',
      args: ['-q', '-', 'inline:{ k1=v1, K4=Upper,k5=a=b }'],
      stdin: 'k1\nK1\nk4\nk5\nk9\n',
    },
    { name: 'braced pair with commas', args: ['-q', 'k3', 'inline:{ k1=v1, { k3 = text with, commas } }'] },
    { name: 'braced value', args: ['-q', 'k', 'inline:{ k={v} }'] },
    { name: 'last duplicate wins', args: ['-q', 'k1', 'inline:{ k1=v1, k1=v2 }'] },
    { name: 'no fold with -f', args: ['-f', '-q', 'K4', 'inline:{ K4=Upper }'] },
    { name: 'empty items skipped', args: ['-q', 'k', 'inline:{ k1=v1,, {k=v}, }'] },
    { name: 'spaces around = need braces', args: ['-q', 'k2', 'inline:{ k1=v1, k2 = v2 }'] },
    { name: 'no =', args: ['-q', 'k1', 'inline:{ k1 }'] },
    { name: 'empty key', args: ['-q', 'k1', 'inline:{ =v }'] },
    { name: 'no braces', args: ['-q', 'k1', 'inline:k1=v1'] },
    { name: 'unbalanced', args: ['-q', 'k1', 'inline:{ k1=v1'] },
    { name: 'empty braces', args: ['-q', 'k1', 'inline:{}'] },
    { name: 'only commas', args: ['-q', 'k1', 'inline:{,}'] },
    { name: 'empty item braces', args: ['-q', 'k1', 'inline:{ { } }'] },
    { name: 'text after item brace', args: ['-q', 'k1', 'inline:{ {k1=v1}x }'] },
    { name: 'text after table', args: ['-q', 'k1', 'inline:{ k1=v1 } x'] },
    { name: 'space in braced key', args: ['-q', 'a b', 'inline:{ {a b=c} }'] },
    { name: 'sequence', args: ['-s', 'inline:{ {K3 = x y} }'] },
    {
      name: 'utf8 full case folding',
      mainCf: 'compatibility_level = 3.6\n',
      args: ['-q', '-', 'inline:{ Straße=1, {école=2}, σα=3, fi=4, k=5 }'],
      stdin: 'STRASSE\nÉCOLE\nΣΑ\nﬁ\nK\n',
    },
    {
      name: 'ascii folding without smtputf8',
      mainCf: 'smtputf8_enable = no\n',
      args: ['-q', '-', 'inline:{ Ecole=1, {école=2} }'],
      stdin: 'ECOLE\nÉCOLE\nécole\n',
    },
  ],
  unionmap: [
    {
      name: 'all results joined',
      args: ['-q', 'k', 'unionmap:{static:a, inline:{k=b}, inline:{x=y}, static:{c d}}'],
    },
    { name: 'none found', args: ['-q', 'x', 'unionmap:{inline:{k=b}, inline:{y=y}}'] },
    { name: 'duplicates kept', args: ['-q', 'k', 'unionmap:{inline:{k=a}, inline:{k=a}}'] },
    { name: 'failing member', args: ['-q', 'k', 'unionmap:{static:a, fail:x}'] },
    { name: 'failing first member', args: ['-q', 'k', 'unionmap:{fail:x, static:a}'] },
    { name: 'empty list', args: ['-q', 'k', 'unionmap:{}'] },
    { name: 'only commas', args: ['-q', 'k', 'unionmap:{,}'] },
    { name: 'no braces', args: ['-q', 'k', 'unionmap:static:a'] },
    { name: 'unbalanced', args: ['-q', 'k', 'unionmap:{static:a'] },
    { name: 'member without type', args: ['-q', 'k', 'unionmap:{static}'] },
    { name: 'unknown member type', args: ['-q', 'k', 'unionmap:{bogus:x}'] },
    { name: 'braced member is not unbraced', args: ['-q', 'k', 'unionmap:{ {static:a} }'] },
    { name: 'bad member syntax', args: ['-q', 'k', 'unionmap:{static:{a} b}'] },
    { name: 'sequence unsupported', args: ['-s', 'unionmap:{static:a, static:b}'] },
  ],
  pipemap: [
    { name: 'pipeline', args: ['-q', 'k', 'pipemap:{inline:{k=v}, inline:{v=w}}'] },
    { name: 'result is folded by the next table', args: ['-q', 'k', 'pipemap:{inline:{k=V}, inline:{v=w}}'] },
    { name: 'broken pipeline', args: ['-q', 'k', 'pipemap:{inline:{k=v}, inline:{x=w}}'] },
    { name: 'single table', args: ['-q', 'k', 'pipemap:{static:a}'] },
    { name: 'failing last table', args: ['-q', 'k', 'pipemap:{inline:{k=v}, fail:x}'] },
    { name: 'not found before failing table', args: ['-q', 'k', 'pipemap:{inline:{x=v}, fail:x}'] },
    { name: 'empty list', args: ['-q', 'k', 'pipemap:{}'] },
    { name: 'sequence unsupported', args: ['-s', 'pipemap:{static:a, static:b}'] },
  ],
  randmap: [
    { name: 'one value', args: ['-q', 'k', 'randmap:{a}'] },
    { name: 'braces kept in values', args: ['-q', 'k', 'randmap:{ {c d}, {c d} }'] },
    { name: 'trailing space inside', args: ['-q', 'k', 'randmap:{a }'] },
    { name: 'empty list', args: ['-q', 'k', 'randmap:{}'] },
    { name: 'only commas', args: ['-q', 'k', 'randmap:{,}'] },
    { name: 'no braces', args: ['-q', 'k', 'randmap:a'] },
    { name: 'sequence unsupported', args: ['-s', 'randmap:{a,b}'] },
  ],
  fail: [
    { name: 'query', args: ['-q', 'k', 'fail:x'] },
    { name: 'query from stdin', args: ['-q', '-', 'fail:x'], stdin: 'a\nb\n' },
    { name: 'sequence', args: ['-s', 'fail:x'] },
    {
      name: 'output before a query error: complete 4096-byte blocks only',
      args: ['-q', '-', 'inline:{a=1}', 'fail:x'],
      stdin: `${'a\n'.repeat(3000)}b\n`,
    },
  ],
  sequence: [
    { name: 'tcp cannot list', args: ['-s', 'tcp:127.0.0.1:1'] },
    { name: 'socketmap cannot list', args: ['-s', 'socketmap:inet:127.0.0.1:1:foo'] },
  ],
  empty: [
    { name: 'inline value', args: ['-q', 'k', 'inline:{k=}'] },
    { name: 'static value', args: ['-q', 'k', 'static:{}'] },
    { name: 'many keys', args: ['-q', '-', 'inline:{k=, j=x}'], stdin: 'k\nj\nk\nn\n' },
    { name: 'sequence', args: ['-s', 'inline:{k=}'] },
    {
      name: 'regexp substitution',
      files: { 'e.re': '/^(a*)b$/ $1\n' },
      args: ['-q', 'b', 'regexp:$DIR/e.re'],
    },
    { name: 'environ', env: { POSTROOM_EMPTY: '' }, args: ['-f', '-q', 'POSTROOM_EMPTY', 'environ:x'] },
    { name: 'unionmap only empty', args: ['-q', 'k', 'unionmap:{inline:{{k=}}}'] },
    { name: 'unionmap empty first', args: ['-q', 'k', 'unionmap:{inline:{{k=}},static:a}'] },
    { name: 'unionmap empty between', args: ['-q', 'k', 'unionmap:{static:a,inline:{{k=}},static:b}'] },
    { name: 'unionmap empty last', args: ['-q', 'k', 'unionmap:{static:a,inline:{{k=}}}'] },
    { name: 'pipemap last empty', args: ['-q', 'k', 'pipemap:{static:a,inline:{{a=}}}'] },
    { name: 'pipemap member empty', args: ['-q', 'k', 'pipemap:{inline:{{k=}},static:a}'] },
    { name: 'second table empty', args: ['-q', 'k', 'inline:{x=y}', 'inline:{k=}'] },
  ],
  environ: [
    { name: 'folded key cannot find TZ', env: { TZ: 'UTC' }, args: ['-q', 'TZ', 'environ:x'] },
    { name: 'TZ without folding', env: { TZ: 'UTC' }, args: ['-f', '-q', 'TZ', 'environ:x'] },
    {
      name: 'unset variable',
      env: { TZ: 'UTC' },
      args: ['-f', '-q', 'POSTROOM_NO_SUCH_VARIABLE', 'environ:'],
    },
    { name: 'sequence unsupported', args: ['-s', 'environ:x'] },
    { name: 'exported variable kept', env: { FOO: 'bar' }, args: ['-f', '-q', 'FOO', 'environ:x'] },
    { name: 'HOME kept', env: { HOME: '/home/postroom' }, args: ['-f', '-q', 'HOME', 'environ:x'] },
    { name: 'MAIL_CONFIG is -c', args: ['-f', '-q', 'MAIL_CONFIG', 'environ:x'] },
    { name: 'MAIL_LOGTAG is syslog_name', args: ['-f', '-q', 'MAIL_LOGTAG', 'environ:x'] },
    {
      name: 'MAIL_LOGTAG from main.cf',
      mainCf: 'syslog_name = postroom/test\n',
      env: { MAIL_LOGTAG: 'other' },
      args: ['-f', '-q', 'MAIL_LOGTAG', 'environ:x'],
    },
    {
      name: 'LANG=C from import_environment',
      env: { LANG: 'C.UTF-8' },
      args: ['-f', '-q', 'LANG', 'environ:x'],
    },
    {
      name: 'import_environment settings',
      mainCf: 'import_environment = FOO=set A=1=2 B= TZ\n',
      env: { FOO: 'orig', TZ: 'UTC', LANG: 'C.UTF-8' },
      args: ['-f', '-q', '-', 'environ:x'],
      stdin: 'FOO\nA\nTZ\nLANG\n',
    },
    {
      name: 'import_environment without a name',
      mainCf: 'import_environment = =x LANG\n',
      args: ['-f', '-q', 'LANG', 'environ:x'],
    },
  ],
};

function record(spec: CaseSpec): GoldenCase {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-golden-'));
  try {
    writeFileSync(join(dir, 'main.cf'), spec.mainCf ?? '');
    const past = new Date(Date.now() - 3600_000);
    utimesSync(join(dir, 'main.cf'), past, past);
    writeCaseFiles(spec, dir);
    const args = ['-c', dir, ...spec.args.map((a) => withDir(a, dir))];
    const r = run('/usr/sbin/postmap', args, { input: withDir(spec.stdin ?? '', dir), env: { ...spec.env } });
    return {
      ...spec,
      stdout: withoutDir(r.stdout, dir),
      stderr: withoutDir(r.stderr, dir),
      status: r.status,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const wanted = process.argv.slice(2);
for (const [type, specs] of Object.entries(CASES)) {
  if (wanted.length > 0 && !wanted.includes(type)) continue;
  writeGolden(type, specs.map(record));
  console.log(`${type}: ${specs.length} cases`);
}
