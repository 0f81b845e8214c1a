/*
 * addr_cases - the messages and configurations that the address-mapping
 * goldens were recorded with (addr_record.ts) and that addr_golden.test.ts
 * replays through AddressMapper. Each configuration is one private
 * Postfix run: one main.cf and one set of tables for all its messages.
 */
import { join } from 'node:path';
import { GOLDEN } from '../harness/index.js';

export interface Config {
  readonly name: string;
  /** main.cf lines; "$TABLES" stands for the directory holding the tables. */
  readonly mainCf: readonly string[];
  readonly tables: Readonly<Record<string, string>>;
  readonly cases: readonly Case[];
  /** Messages cleanup does not accept (they stay in maildrop); 'unknown' for random tables. */
  readonly deferred?: number | 'unknown';
  /** Sent over SMTP from 127.0.0.1 (smtpd; header rewriting as for a remote client). */
  readonly smtp?: boolean;
  /** What cleanup does with header addresses: AddressMapper options for the replay. */
  readonly context?: 'local' | 'remote';
  readonly rewriteHeaders?: boolean;
}

export const goldenFile = (c: Config) => join(GOLDEN, `addrmap/${c.name}.json`);

/** main.cf lines; "$TABLES" stands for the directory holding the tables below. */
export const MAIN_CF = [
  'compatibility_level = 3.6',
  'myhostname = mx.example.com',
  'mydomain = example.com',
  'myorigin = example.com',
  'mydestination = $myhostname, localhost, example.com',
  'recipient_delimiter = +',
  'canonical_maps = texthash:$TABLES/canonical',
  'sender_canonical_maps = texthash:$TABLES/sender_canonical',
  'recipient_canonical_maps = texthash:$TABLES/recipient_canonical',
  'masquerade_domains = !keep.mq.test, mq.test',
  'masquerade_exceptions = root',
  'virtual_alias_maps = texthash:$TABLES/virtual',
  'sender_bcc_maps = texthash:$TABLES/sender_bcc',
  'recipient_bcc_maps = texthash:$TABLES/recipient_bcc',
  'always_bcc = archive@example.net',
];

export const TABLES: Record<string, string> = {
  canonical: [
    'canon@example.com Canon.Person@example.com',
    '@old.test @new.test',
    'plain plain.user@example.net',
    'ext@example.com ext.target@example.net',
    'chain1@example.com chain2@example.com',
    'chain2@example.com chain3@example.net',
    'self@example.com self@example.com',
    'multi@example.com m1@example.net, m2@example.net',
    'quoted@example.com "odd person"@example.net',
    'short shortened',
  ].join('\n'),
  sender_canonical: 'sndr@example.com sender.rewritten@example.com\n',
  recipient_canonical: 'rcpt@example.com rcpt.rewritten@example.com\n',
  virtual: [
    'list@example.net a@example.net, b@example.net, list@example.net',
    'a@example.net a-final@example.net',
    'ext@example.net ext-target@example.org',
    '@virt.test catchall@example.org',
    'dup@example.net c@example.org, c@example.org, d@example.org',
    'user localuser@example.org',
    'two@example.net Mixed@Example.ORG, two@example.net',
    'unq somebody',
    'swap1@example.net swap2@example.net, x1@example.org',
    'swap2@example.net swap1@example.net',
  ].join('\n'),
  sender_bcc: 'sender.rewritten@example.com sbcc@example.org\n',
  recipient_bcc: 'rcpt.rewritten@example.com rbcc@example.org\n',
};

export interface Case {
  readonly name: string;
  readonly sender: string;
  readonly recipients: readonly string[];
  /** Header lines ("Name: value", continuation lines after "\n"). */
  readonly headers: readonly string[];
}

export const CASES: readonly Case[] = [
  {
    name: 'sender and recipient canonical',
    sender: 'sndr@example.com',
    recipients: ['rcpt@example.com'],
    headers: ['From: Some One <sndr@example.com>', 'To: rcpt@example.com', 'Cc: canon'],
  },
  {
    name: 'unqualified addresses and bare user keys',
    sender: 'canon',
    recipients: ['plain', 'user@example.com', 'user+tag@example.com', 'bob'],
    headers: ['From: canon', 'To: plain, bob', 'Reply-To: plain (The Plain One)'],
  },
  {
    name: 'domain mapping and extensions',
    sender: 'someone@old.test',
    recipients: ['ext+foo@example.com', 'ext+bar@example.net', 'x+y@old.test', 'z@virt.test'],
    headers: ['From: "Some One" <someone@old.test>', 'To: ext+foo@example.com, x+y@old.test'],
  },
  {
    name: 'virtual alias expansion',
    sender: 'nobody@example.org',
    recipients: ['list@example.net', 'dup@example.net', 'two@example.net', 'unq@example.net'],
    headers: ['To: list@example.net'],
  },
  {
    name: 'masquerading',
    sender: 'joe@host.mq.test',
    recipients: ['root@host.mq.test', 'x@keep.mq.test', 'y@sub.host.mq.test', 'w@mq.test', 'v@other.test'],
    headers: [
      'From: Joe <joe@host.mq.test>',
      'To: root@host.mq.test, y@sub.host.mq.test',
      'Cc: x@keep.mq.test, v@other.test',
    ],
  },
  {
    name: 'mailer-daemon sender',
    sender: 'MAILER-DAEMON',
    recipients: ['someone@example.org'],
    headers: ['From: MAILER-DAEMON'],
  },
  {
    name: 'mailer-daemon at myorigin',
    sender: 'mailer-daemon@EXAMPLE.com',
    recipients: ['someone@example.org'],
    headers: ['Sender: mailer-daemon@example.com'],
  },
  {
    name: 'groups comments and phrases',
    sender: 'g@example.org',
    recipients: ['g2@example.org'],
    headers: [
      'To: Friends: alice, "Bob B." <bob@old.test>;, carol (Carol C)',
      'Cc: undisclosed-recipients:;',
      'Bcc: a (c1) @ b (c2) . example (c3)',
      'Resent-To: one two <three>',
      'Resent-Cc: x@y z@w',
    ],
  },
  {
    name: 'headers that need no rewriting',
    sender: 'n@example.org',
    recipients: ['n2@example.org'],
    headers: [
      'To:   Full Name <someone@example.org>  ,  other@example.org (Comment)',
      'From: "quoted \\" name" <q@example.org>',
      'Cc:x@example.org',
      'Subject: plain words, bob',
      'X-Extra: canon',
    ],
  },
  {
    name: 'long header folding',
    sender: 'l@example.org',
    recipients: ['l2@example.org'],
    headers: [
      'To: aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, eeeeeeeeee, ffffffffff, gggggggggg, hhhhhhhhhh, iiiiiiiiii',
      'Cc: Person Number One <p1@old.test>, Person Number Two <p2@old.test>,\n\tPerson Number Three <p3@old.test>',
    ],
  },
  {
    name: 'routing operators',
    sender: 'r@example.org',
    recipients: ['host!user', 'user%elsewhere.test', 'trail@example.org.'],
    headers: [
      'To: host!user, user%elsewhere.test',
      'From: <@hop1,@hop2:u@example.org>',
      'Cc: trail@example.org.',
    ],
  },
  {
    name: 'canonical chains, self, multi-valued and quoted results',
    sender: 'chain1@example.com',
    recipients: ['self@example.com', 'multi@example.com', 'quoted@example.com', 'short'],
    headers: ['From: chain1', 'To: self, multi, quoted', 'Cc: short'],
  },
  {
    name: 'quoted local parts',
    sender: 'first.last@old.test',
    recipients: ['"odd person"@example.org', 'x.@example.org'],
    headers: ['From: "first last"@old.test', 'To: "odd person"@example.org, "x."@example.org'],
  },
  {
    name: 'all address headers',
    sender: 'h@example.org',
    recipients: ['h2@example.org'],
    headers: [
      'Resent-From: bob',
      'Resent-Sender: bob',
      'Resent-Reply-To: bob',
      'Resent-Bcc: bob',
      'Errors-To: bob',
      'Return-Receipt-To: bob',
      'Apparently-To: bob',
      'Disposition-Notification-To: bob',
      'Mail-Followup-To: bob',
      'Sender: bob',
      'TO: bob',
      'Delivered-To: bob',
      'Reply-To: <>',
      'Cc: <>, bob',
    ],
  },
];

const BASE = ['compatibility_level = 3.6', 'myhostname = mx.example.com', 'mydomain = example.com'];
const one = (name: string, sender: string, recipients: string[], headers: string[] = []): Case[] => [
  { name, sender, recipients, headers },
];

const REMOTE = [
  ...BASE,
  'myorigin = example.com',
  'mydestination = $myhostname, localhost, example.com',
  'local_header_rewrite_clients =',
  'canonical_maps = texthash:$TABLES/canonical',
  'masquerade_domains = mq.test',
];
const REMOTE_TABLES = {
  canonical: 'canon@example.com Canon.Person@example.com\n@domain.invalid @mapped.test\n',
};
const REMOTE_CASES: Case[] = [
  {
    name: 'header addresses of a remote client',
    sender: 'canon',
    recipients: ['canon@example.com', 'someone@example.org'],
    headers: [
      'From: canon',
      'To: bob, someone@host.mq.test, Canon <canon@example.com>',
      'Cc: Group: a, b;',
      'Reply-To: x@y.example.org',
    ],
  },
];

const FUZZ_VIRTUAL = fuzzVirtual(31337);
const FUZZ_CANONICAL = fuzzCanonical(8086);

export const CONFIGS: readonly Config[] = [
  { name: 'main', mainCf: MAIN_CF, tables: TABLES, cases: CASES },
  {
    name: 'options',
    mainCf: [
      ...BASE,
      'mydestination = $myhostname, localhost',
      'append_dot_mydomain = yes',
      'swap_bangpath = no',
      'allow_percent_hack = no',
      'recipient_delimiter = +-',
      'propagate_unmatched_extensions =',
      'canonical_classes = envelope_recipient, header_recipient',
      'masquerade_domains = mq.test, !keep.mq.test',
      'masquerade_exceptions = texthash:$TABLES/masq_exceptions',
      'masquerade_classes = envelope_recipient, header_sender',
      'canonical_maps = texthash:$TABLES/canonical',
      'virtual_alias_maps = texthash:$TABLES/virtual',
    ],
    tables: {
      masq_exceptions: 'admin x\n',
      canonical: [
        'canon@mx.example.com Canon.Person@example.com',
        'plain plain.user@example.net',
        'a@example.net a-target@example.org',
      ].join('\n'),
      virtual: [
        'ext@example.net ext-target@example.org',
        'owner@mx.example.com wrong@example.org',
        'list@mx.example.com wrong2@example.org',
      ].join('\n'),
    },
    cases: [
      {
        name: 'classes, exceptions, no propagation, two delimiters',
        sender: 'joe@host.mq.test',
        recipients: [
          'admin@host.mq.test',
          'u@x.sub.mq.test',
          'k@a.keep.mq.test',
          'ext+foo@example.net',
          'owner-list',
          'list-request',
          'a-b@example.net',
          'canon',
          'plain+x',
        ],
        headers: [
          'From: joe@host.mq.test, admin@host.mq.test',
          'To: u@x.sub.mq.test, canon',
          'Reply-To: canon',
        ],
      },
      {
        name: 'too many comments around an address',
        sender: 's@example.org',
        recipients: ['r@example.org'],
        headers: [
          `Cc: (${'c'.repeat(240)}) canon (${'d'.repeat(20)}), Some Body <plain>`,
          `To: ${'Long Phrase '.repeat(25)}<canon>`,
        ],
      },
      {
        name: 'no bang path swap, no percent hack, dot-mydomain',
        sender: 'canon',
        recipients: ['host!user', 'user%elsewhere', 'user@host', '@r1:plain', '@r2:u@example.org'],
        headers: ['To: host!user, user%elsewhere, user@host'],
      },
    ],
  },
  {
    name: 'fail-canonical',
    mainCf: [...BASE, 'canonical_maps = fail:canonical'],
    tables: {},
    cases: one('canonical_maps lookup failure', 's@example.org', ['r@example.org']),
    deferred: 1,
  },
  {
    name: 'fail-open',
    mainCf: [...BASE, 'canonical_maps = texthash:/nonexistent/canonical'],
    tables: {},
    cases: one('canonical_maps cannot be opened', 's@example.org', ['r@example.org']),
    deferred: 1,
  },
  {
    name: 'fail-virtual',
    mainCf: [...BASE, 'virtual_alias_maps = fail:virtual'],
    tables: {},
    cases: one('virtual_alias_maps lookup failure', 's@example.org', ['r@example.org']),
    deferred: 1,
  },
  {
    name: 'virtual-loop',
    mainCf: [...BASE, 'virtual_alias_maps = texthash:$TABLES/virtual'],
    tables: {
      virtual: 'swap1@example.net swap2@example.net, x1@example.org\nswap2@example.net swap1@example.net\n',
    },
    cases: one('virtual alias loop', 's@example.org', ['swap1@example.net']),
    deferred: 1,
  },
  {
    name: 'virtual-expansion',
    mainCf: [...BASE, 'virtual_alias_maps = texthash:$TABLES/virtual', 'virtual_alias_expansion_limit = 2'],
    tables: { virtual: 'big@example.net a@example.org, b@example.org, c@example.org\n' },
    cases: one('virtual alias expansion limit', 's@example.org', ['big@example.net']),
    deferred: 1,
  },
  {
    name: 'fail-bcc',
    mainCf: [...BASE, 'sender_bcc_maps = fail:bcc'],
    tables: {},
    cases: one('sender_bcc_maps lookup failure', 's@example.org', ['r@example.org']),
    deferred: 1,
  },
  {
    // recipient_bcc_maps sees the recipient after canonical mapping, before virtual
    // alias expansion; a bcc address is canonicalized and is its own original recipient.
    name: 'bcc-order',
    mainCf: [
      ...BASE,
      'myorigin = example.com',
      'canonical_maps = texthash:$TABLES/canonical',
      'virtual_alias_maps = texthash:$TABLES/virtual',
      'sender_bcc_maps = texthash:$TABLES/sender_bcc',
      'recipient_bcc_maps = texthash:$TABLES/recipient_bcc',
    ],
    tables: {
      canonical: [
        'rcpt@example.com rcpt.rewritten@example.com',
        'canon@example.com Canon.Person@example.com',
        'sndr@example.com sender.rewritten@example.com',
      ].join('\n'),
      virtual: [
        'list@example.net a@example.net, b@example.net',
        'rcpt.rewritten@example.com final@example.org',
        'Canon.Person@example.com canon-box@example.org',
      ].join('\n'),
      sender_bcc: 'sender.rewritten@example.com sbcc@example.org\n',
      recipient_bcc: [
        'list@example.net listbcc@example.org',
        'a@example.net wrong-a@example.org',
        'rcpt.rewritten@example.com canon@example.com',
        'final@example.org wrong-final@example.org',
        'rcpt@example.com wrong-raw@example.org',
      ].join('\n'),
    },
    cases: one('bcc lookups and their original recipients', 'sndr@example.com', [
      'list@example.net',
      'rcpt@example.com',
      'other@example.org',
    ]),
  },
  {
    name: 'fail-masq',
    mainCf: [...BASE, 'masquerade_domains = example.org', 'masquerade_exceptions = fail:exceptions'],
    tables: {},
    cases: one('masquerade_exceptions lookup failure', 's@host.example.org', ['r@example.org']),
    deferred: 1,
  },
  {
    name: 'canonical-nesting',
    mainCf: [...BASE, 'canonical_maps = texthash:$TABLES/canonical'],
    tables: { canonical: 'ping@example.org pong@example.org\npong@example.org ping@example.org\n' },
    cases: one('canonical loop', 'ping@example.org', ['r@example.org'], ['From: ping@example.org']),
  },
  {
    name: 'remote',
    smtp: true,
    context: 'remote',
    mainCf: [...REMOTE, 'remote_header_rewrite_domain = domain.invalid'],
    tables: REMOTE_TABLES,
    cases: REMOTE_CASES,
  },
  {
    name: 'remote-untouched',
    smtp: true,
    rewriteHeaders: false,
    mainCf: REMOTE,
    tables: REMOTE_TABLES,
    cases: REMOTE_CASES,
  },
  {
    name: 'fuzz',
    mainCf: [
      ...BASE,
      'myorigin = example.com',
      'canonical_maps = texthash:$TABLES/canonical',
      'masquerade_domains = mq.test',
    ],
    tables: { canonical: '@example.com @canon.example\nbob@x.org robert@x.org\n' },
    cases: fuzzCases(12, 40, 20261125),
  },
  {
    name: 'fuzz-options',
    mainCf: [
      ...BASE,
      'append_dot_mydomain = yes',
      'swap_bangpath = no',
      'masquerade_domains = example.com',
      'canonical_maps = texthash:$TABLES/canonical',
    ],
    tables: { canonical: '@x.org @y.org\nbob bob@bob.org\n' },
    cases: fuzzCases(12, 40, 4711),
  },
  {
    name: 'fuzz-virtual',
    mainCf: [
      ...BASE,
      'recipient_delimiter = +',
      'virtual_alias_maps = texthash:$TABLES/virtual',
      'virtual_alias_recursion_limit = 6',
      'virtual_alias_expansion_limit = 8',
    ],
    tables: { virtual: FUZZ_VIRTUAL.table },
    cases: FUZZ_VIRTUAL.cases,
    deferred: 'unknown',
  },
  {
    name: 'fuzz-canonical',
    mainCf: [
      ...BASE,
      'myorigin = example.com',
      'mydestination = $myhostname, localhost, example.com',
      'recipient_delimiter = +',
      'canonical_maps = texthash:$TABLES/canonical',
      'sender_canonical_maps = texthash:$TABLES/sender_canonical',
      'masquerade_domains = !keep.mq.test, h1.mq.test, mq.test, !!x.mq.test',
      'masquerade_exceptions = root, b+x',
      'masquerade_classes = envelope_sender, envelope_recipient, header_sender, header_recipient',
    ],
    tables: FUZZ_CANONICAL.tables,
    cases: FUZZ_CANONICAL.cases,
  },
  {
    name: 'smtp-envelope',
    smtp: true,
    context: 'remote',
    mainCf: [...REMOTE, 'remote_header_rewrite_domain = domain.invalid', 'local_recipient_maps ='],
    tables: REMOTE_TABLES,
    cases: [
      {
        name: 'odd envelope addresses over SMTP',
        sender: '"odd sender"@example.org',
        recipients: [
          'u%v@example.org',
          'a!b@example.org',
          '"a@b"@example.org',
          '"x y+ext"@example.com',
          'postmaster',
          'canon',
        ],
        headers: ['To: "x y+ext"@example.com, "a@b"@example.org'],
      },
      {
        name: 'null sender over SMTP',
        sender: '',
        recipients: ['canon@example.com'],
        headers: [],
      },
    ],
  },
  {
    name: 'patterns',
    mainCf: [
      ...BASE,
      'myorigin = example.com',
      'mydestination = $myhostname, localhost, example.com',
      'recipient_delimiter = +',
      'header_address_token_limit = 12',
      'canonical_maps = regexp:$TABLES/canonical.re',
      'virtual_alias_maps = pcre:$TABLES/virtual.pcre',
    ],
    tables: {
      'canonical.re': [
        '/^(.*)@old\\.test$/ $1@new.test',
        '/^bob$/ wrong@example.org',
        '/^@pat\\.test$/ wrong2@example.org',
      ].join('\n'),
      'virtual.pcre': [
        '/^x@pat\\.test$/ wrong3@example.org',
        '/^(.+)\\+(.+)@ext\\.test$/ $2@ext2.test',
        '/^list@lists\\.test$/ a@example.org, list@lists.test',
      ].join('\n'),
    },
    cases: [
      {
        name: 'pattern tables get only the full address',
        sender: 'someone@old.test',
        recipients: ['bob@example.com', 'x+y@pat.test', 'z@pat.test', 'u+tag@ext.test', 'list@lists.test'],
        headers: [
          'From: someone@old.test',
          'To: a, b, c, d, e, f, g, h',
          'Cc: a@old.test, b@old.test, c@old.test',
        ],
      },
    ],
  },
  {
    name: 'fuzz-remote',
    smtp: true,
    context: 'remote',
    mainCf: [...REMOTE, 'remote_header_rewrite_domain = domain.invalid', 'local_recipient_maps ='],
    tables: REMOTE_TABLES,
    cases: fuzzCases(8, 40, 99),
  },
];

/**
 * Random address-list headers from a fixed seed: words, specials, quoted
 * strings, comments, literals and folding, in any order. Many have
 * unqualified addresses (rewritten), some have none.
 */
function fuzzCases(messages: number, headers: number, seed: number): Case[] {
  let x = seed;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return Math.floor((x / 2147483648) * n);
  };
  const pieces = [
    'bob',
    'alice',
    'a.b',
    'x.org',
    'host.mq.test',
    'Joe',
    'example.com',
    'u+ext',
    '@',
    '@',
    '.',
    ',',
    ',',
    ';',
    ':',
    '<',
    '>',
    '!',
    '%',
    '"q s"',
    '"a\\"b"',
    '(c)',
    '(n (e) st)',
    '[1.2.3.4]',
    ' ',
    ' ',
    '  ',
    '\n\t',
    '\n ',
    '""',
    '\\',
    '[',
    ']',
    '(',
    ')',
    '"',
    'ü',
    'zz@dom',
    'x@example.com',
    'a.very.long.local.part.for.folding',
  ];
  const names = ['To', 'Cc', 'From', 'Reply-To', 'Sender'];
  const out: Case[] = [];
  for (let m = 0; m < messages; m++) {
    const hs: string[] = [];
    for (let h = 0; h < headers; h++) {
      let v = '';
      const n = 1 + rnd(12);
      for (let i = 0; i < n; i++) v += pieces[rnd(pieces.length)];
      // A header line must start with its name and may not end in folding.
      hs.push(`${names[rnd(names.length)]}: ${v.replace(/\n[ \t]$/, '')}`);
    }
    out.push({ name: `fuzz ${m}`, sender: 'f@example.org', recipients: ['r@example.org'], headers: hs });
  }
  return out;
}

/** A random virtual alias table (self references, loops, duplicates, @domain, extensions) and one message per address. */
function fuzzVirtual(seed: number): { table: string; cases: Case[] } {
  let x = seed;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return Math.floor((x / 2147483648) * n);
  };
  const v = (i: number) => `v${i}@example.net`;
  const targets = (i: number) => [
    v(rnd(16)),
    v(rnd(16)),
    v(i),
    `out${rnd(4)}@example.org`,
    `v${rnd(16)}+t@example.net`,
    `local${rnd(3)}`,
    `u${rnd(3)}@alias.test`,
    `V${rnd(16)}@EXAMPLE.net`,
  ];
  const lines: string[] = ['@alias.test v7@example.net, out9@example.org'];
  for (let i = 0; i < 16; i++) {
    if (rnd(5) === 0) continue;
    const pool = targets(i);
    const n = 1 + rnd(3);
    lines.push(`${v(i)} ${Array.from({ length: n }, () => pool[rnd(pool.length)]).join(', ')}`);
  }
  const rcpts = [
    ...Array.from({ length: 16 }, (_, i) => v(i)),
    'v3+ext@example.net',
    'u1@alias.test',
    'V5@Example.NET',
  ];
  return {
    table: `${lines.join('\n')}\n`,
    cases: rcpts.map((r) => ({
      name: `virtual ${r}`,
      sender: 's@example.org',
      recipients: [r],
      headers: [],
    })),
  };
}

/** Random canonical tables over a small address pool, and messages using the pool in envelope and headers. */
function fuzzCanonical(seed: number): { tables: Record<string, string>; cases: Case[] } {
  let x = seed;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return Math.floor((x / 2147483648) * n);
  };
  const pick = <T>(l: readonly T[]) => l[rnd(l.length)]!;
  const users = ['a', 'b', 'c', 'root', 'b+x', 'Mixed'];
  const domains = [
    'example.com',
    'h1.mq.test',
    'h2.h1.mq.test',
    'keep.mq.test',
    'y.keep.mq.test',
    'x.mq.test',
    'mq.test',
    'other.org',
  ];
  const addr = () => `${pick(users)}@${pick(domains)}`;
  const key = () => pick([addr(), addr(), pick(users), `@${pick(domains)}`]);
  const value = () => pick([addr(), addr(), `@${pick(domains)}`, pick(users)]);
  const table = (n: number) =>
    `${[...new Map(Array.from({ length: n }, () => [key().toLowerCase(), value()])).entries()].map(([k, v]) => `${k} ${v}`).join('\n')}\n`;
  const cases: Case[] = [];
  for (let m = 0; m < 12; m++) {
    const list = () => Array.from({ length: 1 + rnd(3) }, addr);
    cases.push({
      name: `canonical ${m}`,
      sender: pick([addr(), pick(users)]),
      recipients: list(),
      headers: [
        `From: ${list().join(', ')}`,
        `To: ${list().join(', ')}`,
        `Cc: Name <${addr()}>, ${pick(users)}`,
      ],
    });
  }
  return { tables: { canonical: table(24), sender_canonical: table(6) }, cases };
}
