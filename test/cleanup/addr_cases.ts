/*
 * addr_cases - the messages and configuration that the address-mapping
 * goldens were recorded with (addr_record.ts) and that addr_golden.test.ts
 * replays through AddressMapper. One main.cf and one set of tables serve
 * every message, so one private Postfix run records them all.
 */
import { join } from 'node:path';
import { GOLDEN } from '../harness/index.js';

export const GOLDEN_FILE = join(GOLDEN, 'addrmap/golden.json');

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
