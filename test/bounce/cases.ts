/*
 * The postconf -t/-b cases recorded from Postfix 3.7.11 (record_golden.ts)
 * and replayed against bin/postconf (golden.test.ts). Each case runs in a
 * fresh directory holding conf/main.cf and, when given, tpl.cf (both aged
 * an hour: Postfix re-reads a file changed within the last second).
 * Strings are bytes, one character a byte (latin1), so non-UTF-8 template
 * text travels unchanged.
 *
 * `custom` lists the templates whose output comes from the case's own
 * text: those are compared byte for byte; the others come from the
 * built-in templates, whose wording is Postroom's own, so only their
 * place in the output is compared. stderr and the exit status are always
 * compared exactly.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Postfix's own ${name} syntax, not JavaScript's
import type { TemplateKind } from '../../src/bounce/template.js';

export interface Case {
  readonly name: string;
  readonly mainCf: string;
  readonly tpl?: string;
  /** Arguments after "-c conf -t" / "-c conf -b"; default: "tpl.cf" when tpl is given. */
  readonly args?: readonly string[];
  readonly modes: readonly ('t' | 'b')[];
  readonly custom: readonly TemplateKind[];
}

const HOST = 'myhostname = mail.example.com\nmydomain = example.com\n';
const ALL: readonly TemplateKind[] = ['failure', 'delay', 'success', 'verify'];
const BOTH = ['t', 'b'] as const;

/** The templates a (valid) file defines. */
function kindsIn(tpl: string): TemplateKind[] {
  return ALL.filter((k) => tpl.includes(`${k}_template =`));
}

const FULL = `# A complete template file: every template, every header.
failure_template = <<EOF
Charset: us-ascii
From: Postmaster of example.com <postmaster@example.com>
Subject: Your mail could not be delivered
Postmaster-Subject: Returned mail (copy)

Host $myhostname of $mydomain, run by $mail_name.
Messages over $bounce_size_limit bytes come back without their body.
A literal dollar: $$5, and \${mail_name?conditional} \${undefined_name:fallback}.
  Indented text, a \\backslash and a # that is not a comment.

Last line.
EOF

# Headers in any case, with extra colons and spacing.
delay_template = <<END
subject:: Still trying   
FROM:	<mailer-daemon@example.com>
POSTMASTER-SUBJECT: Delayed (copy)

Waited $delay_warning_time_hours hour(s), gives up after $maximal_queue_lifetime_days day(s).
In other units: \${delay_warning_time_minutes} minutes, $(maximal_queue_lifetime_hours) hours.
END

success_template = <<EOF
Charset: us-ascii

Delivered, says $myhostname.
EOF
verify_template = <<EOF
From: Address Verifier <verify@example.com>
Subject: Verification report
Not a header line: starts the text
EOF
`;

export const CASES: readonly Case[] = [
  { name: 'defaults', mainCf: HOST, modes: BOTH, custom: [] },
  {
    name: 'defaults-times',
    mainCf: `${HOST}delay_warning_time = 4h\nmaximal_queue_lifetime = 3d\n`,
    modes: ['b'],
    custom: [],
  },
  {
    name: 'defaults-zero-days',
    mainCf: `${HOST}delay_warning_time = 10m\nmaximal_queue_lifetime = 12h\n`,
    modes: ['b'],
    custom: [],
  },
  {
    name: 'full',
    mainCf: `${HOST}delay_warning_time = 4h\nmaximal_queue_lifetime = 3d\nbounce_size_limit = 12345\nmail_name = ExampleMail\n`,
    tpl: FULL,
    modes: BOTH,
    custom: ALL,
  },
  {
    name: 'all-units',
    mainCf: `${HOST}delay_warning_time = 90m\nmaximal_queue_lifetime = 36h\n`,
    tpl: `delay_template = <<EOF

D $delay_warning_time_seconds s $delay_warning_time_minutes m $delay_warning_time_hours h $delay_warning_time_days d $delay_warning_time_weeks w
M $maximal_queue_lifetime_seconds s $maximal_queue_lifetime_minutes m $maximal_queue_lifetime_hours h $maximal_queue_lifetime_days d $maximal_queue_lifetime_weeks w
EOF
failure_template = <<EOF

Twice $maximal_queue_lifetime_weeks $maximal_queue_lifetime_weeks
EOF
`,
    modes: BOTH,
    custom: ['failure', 'delay'],
  },
  {
    name: 'bare-numbers',
    mainCf: `${HOST}delay_warning_time = 2\nmaximal_queue_lifetime = 2\n`,
    tpl: 'delay_template = <<EOF\n\n$delay_warning_time_hours $maximal_queue_lifetime_days $delay_warning_time $maximal_queue_lifetime\nEOF\n',
    modes: ['b'],
    custom: ['delay'],
  },
  {
    name: 'main-cf-file',
    mainCf: `${HOST}bounce_template_file = tpl.cf\n`,
    tpl: 'success_template = <<EOF\n\nFrom the file named by $$bounce_template_file = $bounce_template_file.\nEOF\n',
    args: [],
    modes: BOTH,
    custom: ['success'],
  },
  {
    name: 'empty-operand',
    mainCf: `${HOST}bounce_template_file = tpl.cf\n`,
    tpl: 'success_template = <<EOF\n\nnot shown\nEOF\n',
    args: [''],
    modes: BOTH,
    custom: [],
  },
  {
    name: 'operand-overrides',
    mainCf: `${HOST}bounce_template_file = /nonexistent/bounce.cf\n`,
    tpl: 'verify_template = <<EOF\n\n[$bounce_template_file]\nEOF\n',
    modes: BOTH,
    custom: ['verify'],
  },
  {
    name: 'main-cf-params',
    mainCf: `${HOST}site_motto = mail for $mydomain\ncheap = $$1\nrelayhost = [relay.example.com]\n`,
    tpl: 'verify_template = <<EOF\n\n$site_motto $cheap $relayhost $mynetworks_style $notify_classes $double_bounce_sender\nEOF\n',
    modes: ['b'],
    custom: ['verify'],
  },
  {
    name: 'smtputf8-ace',
    mainCf: 'smtputf8_enable = yes\nmyhostname = mail.xn--bcher-kva.example\nmydomain = xn--mnchen-3ya.de\n',
    tpl: 'success_template = <<EOF\nCharset: utf-8\n\n$myhostname ${mydomain} $(myhostname) $myorigin\nEOF\n',
    modes: ['b'],
    custom: ['success'],
  },
  {
    name: 'ace-without-smtputf8',
    mainCf: 'smtputf8_enable = no\nmyhostname = mail.xn--bcher-kva.example\nmydomain = xn--mnchen-3ya.de\n',
    tpl: 'success_template = <<EOF\n\n$myhostname $mydomain\nEOF\n',
    modes: ['b'],
    custom: ['success'],
  },
  {
    name: 'file-syntax',
    mainCf: HOST,
    tpl:
      '\n   \n  # indented comment\n  failure_template = <<EOF  \n\n\n  \nbody after blank lines\n # kept\n\n EOF\nEOF  \nEOF\n' +
      'delay_template=<<  STOP here\nSubject: x\nno blank line before text\nSTOP here\n' +
      'success_template = a plain one-line value\n' +
      'verify_template = <<EOF\n\nfirst\nEOF\nverify_template = <<EOF\n\nsecond wins\nEOF\n',
    modes: BOTH,
    custom: ALL,
  },
  {
    name: 'crlf',
    mainCf: HOST,
    tpl: 'failure_template = <<EOF\r\nSubject: crlf\r\n\r\nbody\r\nEOF\r\n',
    modes: BOTH,
    custom: ['failure'],
  },
  {
    name: 'utf8-text',
    mainCf: HOST,
    tpl: 'failure_template = <<EOF\nCharset: utf-8\n\nCaf\xc3\xa9 at $myhostname\nEOF\n',
    modes: BOTH,
    custom: ['failure'],
  },
  {
    name: 'latin1-text',
    mainCf: HOST,
    tpl: 'delay_template = <<EOF\nCHARSET:\tiso-8859-1\t\n\nCaf\xe9\nEOF\n',
    modes: BOTH,
    custom: ['delay'],
  },
  {
    name: 'leading-lines',
    mainCf: HOST,
    tpl:
      'failure_template = <<EOF\n\n\nSubject: after empty lines\nbody\nEOF\n' +
      'delay_template = <<EOF\n \t \nSubject: text after a blank line\n\nbody\nEOF\n' +
      'success_template = <<EOF\n\n   indented: not a header\n  \nEOF\n' +
      'verify_template = <<EOF\n\nlast line keeps its blanks   \n\nEOF\n',
    modes: BOTH,
    custom: ALL,
  },
  {
    name: 'control-chars',
    mainCf: HOST,
    tpl: 'failure_template = <<EOF\nSubject: a\x01b\nX\x7fY: not a header\n\ntext\nEOF\n',
    modes: ['t'],
    custom: ['failure'],
  },
  // Problems in templates: warned about, the built-in template stays.
  ...(
    [
      ['missing-eof', 'failure_template = <<EOF\n\nbody\n'],
      ['missing-eof-marker-unterminated', 'failure_template = <<EOF\n\nbody\nEOF'],
      ['missing-eof-text-unterminated', 'failure_template = <<EOF\n\nbody'],
      ['missing-eof-other-marker', 'failure_template = <<EOF x\n\nbody\nEOF\n'],
      [
        'unknown-template',
        'bogus_template = <<EOF\n\nx\nEOF\n\n# c\nfoo = bar\nsuccess_template = <<EOF\n\nok\nEOF\n',
      ],
      ['unknown-header', 'failure_template = <<EOF\nSubject: fine\nX-Foo: bar\n\nbody\nEOF\n'],
      ['url-first-line', 'failure_template = <<EOF\nhttp://example.com/\n\nbody\nEOF\n'],
      ['empty-header', 'delay_template = <<EOF\nSubject:   \n\nbody\nEOF\n'],
      ['empty-unknown-header', 'delay_template = <<EOF\nFoo:\n\nbody\nEOF\n'],
      ['postmaster-subject-success', 'success_template = <<EOF\nPostmaster-Subject: x\n\nbody\nEOF\n'],
      ['postmaster-subject-verify', 'verify_template = <<EOF\nPostmaster-Subject: x\n\nbody\nEOF\n'],
      ['non-ascii-header', 'failure_template = <<EOF\nSubject: caf\xc3\xa9\n\nbody\nEOF\n'],
      ['non-ascii-label', 'failure_template = <<EOF\n\xc3\xa9: x\n\nbody\nEOF\n'],
      ['8bit-us-ascii', 'failure_template = <<EOF\nSubject: x\n\nfine\ncaf\xc3\xa9\nEOF\n'],
      ['8bit-US-ASCII', 'verify_template = <<EOF\nCharset: US-ASCII\n\ncaf\xe9\nEOF\n'],
      ['missing-text', 'failure_template = <<EOF\nSubject: x\n\n  \n\nEOF\n'],
      ['empty-template', 'delay_template = <<EOF\nEOF\n'],
      ['empty-file', ''],
    ] as const
  ).map(([name, tpl]): Case => ({ name, mainCf: HOST, tpl, modes: BOTH, custom: [] })),
  // Fatal errors in the template file.
  ...(
    [
      ['no-equals', 'failure_template <<EOF\nbody\nEOF\n'],
      ['no-equals-later', 'a = b\n\n\n\nbad\n'],
      ['no-name', '= x\n'],
      ['no-continuation', 'failure_template = plain\n  continued\n'],
      ['here-doc-not-first', 'failure_template = x <<EOF\n\nbody\nEOF\n'],
      ['no-marker', 'failure_template = <<\n\nbody\n\n'],
    ] as const
  ).map(([name, tpl]): Case => ({ name, mainCf: HOST, tpl, modes: BOTH, custom: [] })),
  // Fatal errors while expanding (-b only; -t shows the text as is).
  ...(
    [
      ['undefined-name', 'failure_template = <<EOF\n\nline one $mail_name\n$nonexistent two\nthree\nEOF\n'],
      ['undefined-braces', 'failure_template = <<EOF\n\n${nonexistent}\nEOF\n'],
      ['undefined-in-branch', 'failure_template = <<EOF\n\n${mail_name?$nonexistent}\nEOF\n'],
      ['undefined-daemon-param', 'failure_template = <<EOF\n\n$smtpd_banner\nEOF\n'],
      ['undefined-lookalike', 'failure_template = <<EOF\n\n$myhostname_days\nEOF\n'],
      [
        'tested-undefined-ok',
        'failure_template = <<EOF\n\nTested [${nonexistent?yes}|${nonexistent:no}|$$nonexistent]\nEOF\n',
      ],
      ['bad-suffix', 'delay_template = <<EOF\n\n${delay_warning_time_fortnights}\nEOF\n'],
      ['empty-suffix', 'delay_template = <<EOF\n\n$maximal_queue_lifetime_ x\nEOF\n'],
      ['truncated-macro', 'success_template = <<EOF\n\n${mail_name here\nEOF\n'],
      ['lone-dollar', 'verify_template = <<EOF\n\nend $\nEOF\n'],
    ] as const
  ).map(([name, tpl]): Case => ({ name, mainCf: HOST, tpl, modes: BOTH, custom: kindsIn(tpl) })),
  {
    name: 'fatal-after-4096-bytes',
    mainCf: HOST,
    tpl: `failure_template = <<EOF\n\n${Array.from({ length: 80 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\n')}\nEOF\ndelay_template = <<EOF\n\n$nonexistent\nEOF\n`,
    modes: BOTH,
    custom: ['failure', 'delay'],
  },
  // Errors outside the template text.
  { name: 'no-such-file', mainCf: HOST, args: ['nonexistent.cf'], modes: BOTH, custom: [] },
  { name: 'directory', mainCf: HOST, args: ['conf'], modes: BOTH, custom: [] },
  { name: 'two-operands', mainCf: HOST, args: ['a', 'b'], modes: BOTH, custom: [] },
  ...(
    [
      ['bounce-size-zero', 'bounce_size_limit = 0\n'],
      ['bounce-size-bad', 'bounce_size_limit = abc\n'],
      ['bounce-size-huge', 'bounce_size_limit = 2147483648\n'],
      ['notice-recipient-empty', 'delay_notice_recipient =\nerror_notice_recipient =\n'],
      ['lifetime-too-long', 'maximal_queue_lifetime = 101d\ndelay_warning_time = x\n'],
      ['lifetime-bad', 'maximal_queue_lifetime = 5x\n'],
      ['delay-bad', 'delay_warning_time = -1\n'],
      ['syslog-name', 'syslog_name = mymail\nbounce_size_limit = 0\n'],
      ['multi-instance', 'multi_instance_name = inst\nbounce_notice_recipient =\n'],
      ['checked-before-file', 'bounce_size_limit = 0\n'],
    ] as const
  ).map(
    ([name, extra]): Case => ({
      name,
      mainCf: HOST + extra,
      ...(name === 'checked-before-file' ? { args: ['nonexistent.cf'] } : {}),
      modes: BOTH,
      custom: [],
    }),
  ),
];
