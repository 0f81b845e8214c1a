/*
 * Cases for trivial-rewrite: each is a main.cf (plus table files) and a
 * list of requests; the answers of Postfix 3.7.11's own trivial-rewrite
 * (run stand-alone, -S) are recorded in test/golden/trivial-rewrite/.
 * "%DIR%" in texts stands for the case's temporary directory.
 */

export type Request =
  | { readonly op: 'rewrite'; readonly rule: 'local' | 'remote'; readonly address: string }
  | { readonly op: 'resolve' | 'verify'; readonly sender: string; readonly address: string };

export interface Case {
  readonly name: string;
  /** main.cf lines after the common BASE. */
  readonly main: string;
  readonly files?: Readonly<Record<string, string>>;
  readonly requests: readonly Request[];
}

/** Host-independent settings every case starts with. */
export const BASE = [
  'queue_directory = %DIR%/queue',
  'myhostname = mail.example.com',
  'mydomain = example.com',
  'compatibility_level = 3.6',
  'inet_interfaces = 127.0.0.1',
  'inet_protocols = ipv4',
].join('\n');

const rw = (rule: 'local' | 'remote', ...addresses: string[]): Request[] =>
  addresses.map((address) => ({ op: 'rewrite', rule, address }));
const rs = (sender: string, ...addresses: string[]): Request[] =>
  addresses.map((address) => ({ op: 'resolve', sender, address }));

const REWRITE_INPUTS = [
  'user',
  'user@host',
  'user@host.example.com',
  'user@host.',
  'user@host..',
  'user@.',
  '@a,@b:user@dom.org',
  '@a:user',
  '@a:',
  'a!b!user',
  'a!user@x.org',
  '!user',
  'user!',
  'user%dom.org',
  'a%b%c',
  'user%dom@x.org',
  'a b',
  'a@b@c.org',
  '',
  '@',
  'user@[192.0.2.1]',
  'user@',
  '.user',
  'user.',
  'first.last@Example.COM',
  '"quoted"@x.org',
];

export const CASES: readonly Case[] = [
  {
    name: 'rewrite-defaults',
    main: '',
    requests: [...rw('local', ...REWRITE_INPUTS), ...rw('remote', ...REWRITE_INPUTS)],
  },
  {
    name: 'rewrite-append-dot-mydomain',
    main: 'append_dot_mydomain = yes\nmyorigin = myorigin',
    requests: rw(
      'local',
      'user',
      'user@host',
      'user@host.sub',
      'user@[192.0.2.1]',
      'user@host.',
      'a!b!c',
      'u%h',
    ),
  },
  {
    name: 'rewrite-remote-domain',
    main: 'append_dot_mydomain = yes\nremote_header_rewrite_domain = domain.invalid',
    requests: [...rw('remote', 'user', 'user@host', 'user@host.org', 'a!user'), ...rw('local', 'user')],
  },
  {
    name: 'rewrite-no-operators',
    main: 'swap_bangpath = no\nallow_percent_hack = no\nappend_at_myorigin = no',
    requests: rw('local', 'user', 'a!b', 'u%d', 'a!b@c.org', '@r:u@d.org'),
  },
  {
    name: 'resolve-defaults',
    main: '',
    requests: rs(
      '',
      'user',
      'user@mail.example.com',
      'User@MAIL.Example.COM',
      'user@localhost',
      'user@localhost.example.com',
      'user@remote.org',
      'user@Remote.ORG.',
      'user@[127.0.0.1]',
      'user@[127.0.0.2]',
      'user@[192.0.2.300]',
      'user@[ipv6:::1]',
      'user@1.2.3.4',
      'user@',
      'user%remote.org@localhost',
      'remote!user@localhost',
      'user@remote.org@localhost',
      'user%remote.org@other.org',
      'a!user@other.org',
      '',
      'MAILER-DAEMON',
      '@a:user@remote.org',
      'user@bad_name.org',
      'user@-bad.org',
      'user@a..b',
      'a b@remote.org',
      'user@remote.org.@localhost',
      'user%other.org',
      'host!user',
    ),
  },
  {
    name: 'resolve-null-numeric-dequote',
    main: 'resolve_null_domain = yes\nresolve_numeric_domain = yes\nresolve_dequoted_address = no',
    requests: rs(
      '',
      'user@',
      'user@1.2.3.4',
      'user@remote.org@localhost',
      'user%remote.org@localhost',
      'user@[1.2.3.4]',
    ),
  },
  {
    name: 'resolve-classes',
    main: [
      'mydestination = $myhostname, texthash:%DIR%/mydest, .sub.example.com, !no.example.com, example.com',
      'relay_domains = relay.org',
      'virtual_alias_domains = valias.org',
      'virtual_mailbox_domains = vmbox.org, texthash:%DIR%/vmbox',
      'proxy_interfaces = 192.0.2.7',
      'relay_transport = relay:[relayhub.example.com]',
      'local_transport = local',
      'virtual_transport = virtual',
    ].join('\n'),
    files: { mydest: 'table.example.com x\n', vmbox: 'vmbox2.org ok\n' },
    requests: rs(
      '',
      'u@mail.example.com',
      'u@table.example.com',
      'u@x.table.example.com',
      'u@a.sub.example.com',
      'u@sub.example.com',
      'u@no.example.com',
      'u@example.com',
      'u@relay.org',
      'u@x.relay.org',
      'u@valias.org',
      'u@vmbox.org',
      'u@vmbox2.org',
      'u@[192.0.2.7]',
      'u@other.org',
      'u',
    ),
  },
  {
    name: 'resolve-relayhost',
    main: 'relay_domains = relay.org\nrelayhost = [gw.example.com]:587\ndefault_transport = smtp\nvirtual_alias_maps = texthash:%DIR%/valias',
    files: { valias: 'valias2.org anything\nuser@valias3.org x\n' },
    requests: rs('', 'u@relay.org', 'u@remote.org', 'u@mail.example.com', 'u@valias2.org', 'u@valias3.org'),
  },
  {
    name: 'resolve-transport-maps',
    main: 'transport_maps = texthash:%DIR%/transport\nrecipient_delimiter = +\nrelay_domains = relay.org',
    files: {
      transport: [
        'user@remote.org   special:',
        'remote.org        smtp:[gw.remote.org]:2525',
        '.remote.org       :[sub-gw]',
        'nochange.org      :',
        'slow.org          slow:',
        'relay.org         :[relay-gw]',
        'local-override@mail.example.com  uucp:x',
        'u+ext@ext.org     ext1:a',
        'u@ext.org         ext2:b',
        'mailer-daemon@mail.example.com  nullrcpt:',
        '*                 fallback:relay.example.com',
      ].join('\n'),
    },
    requests: rs(
      '',
      'user@remote.org',
      'other@remote.org',
      'x@a.remote.org',
      'x@nochange.org',
      'x@slow.org',
      'x@relay.org',
      'local-override@mail.example.com',
      'local-override',
      'other@mail.example.com',
      'u+ext@ext.org',
      'u+other@ext.org',
      'u@ext.org',
      'v@unmatched.org',
      '',
    ),
  },
  {
    name: 'resolve-transport-parent-matches',
    main: 'transport_maps = texthash:%DIR%/transport\nparent_domain_matches_subdomains = transport_maps',
    files: { transport: 'remote.org smtp:[gw]\n' },
    requests: rs('', 'x@remote.org', 'x@a.remote.org', 'x@other.org'),
  },
  {
    name: 'resolve-sender-dependent',
    main: [
      'sender_dependent_default_transport_maps = inline:{alice@s.org=sd1:hop1, @s2.org=sd2:, <>=nullsender:x}',
      'sender_dependent_relayhost_maps = inline:{bob@s.org=[bobrelay], @s2.org=[s2relay]}',
      'relayhost = [gw.example.com]',
      'relay_domains = relay.org',
      'recipient_delimiter = +',
    ].join('\n'),
    requests: [
      ...rs('alice@s.org', 'u@remote.org', 'u@relay.org', 'u@mail.example.com'),
      ...rs('alice+x@s.org', 'u@remote.org'),
      ...rs('bob@s.org', 'u@remote.org', 'u@relay.org'),
      ...rs('x@s2.org', 'u@remote.org', 'u@relay.org'),
      ...rs('', 'u@remote.org'),
      ...rs('nobody@n.org', 'u@remote.org', 'u@relay.org'),
    ],
  },
  {
    name: 'verify-uses-address-verify-parameters',
    main: [
      'relay_domains = relay.org',
      'transport_maps = inline:{remote.org=normal:}',
      'address_verify_transport_maps = inline:{remote.org=probe:[probe-gw]}',
      'address_verify_relayhost = [verify-relay]',
      'address_verify_local_transport = vlocal',
      'address_verify_relay_transport = vrelay',
      'address_verify_default_transport = vsmtp',
      'relayhost = [normal-relay]',
    ].join('\n'),
    requests: [
      ...rs('', 'u@remote.org', 'u@relay.org', 'u@other.org', 'u'),
      ...['u@remote.org', 'u@relay.org', 'u@other.org', 'u'].map(
        (address): Request => ({ op: 'verify', sender: '', address }),
      ),
    ],
  },
  {
    name: 'resolve-sender-dependent-failure',
    main: 'sender_dependent_default_transport_maps = fail:sdt\nsender_dependent_relayhost_maps = fail:sdr\nrelay_domains = relay.org',
    requests: rs('a@b.org', 'u@remote.org', 'u@relay.org', 'u@mail.example.com'),
  },
  {
    name: 'resolve-relocated',
    main: [
      'relocated_maps = inline:{u@remote.org=new@x.org, @moved.org=elsewhere.org, user=gone, v@mail.example.com=vv}',
      'recipient_delimiter = +',
      'relay_domains = relay.org',
      'transport_maps = inline:{relay.org=t:}',
    ].join('\n'),
    requests: rs(
      '',
      'u@remote.org',
      'u+x@remote.org',
      'z@moved.org',
      'user',
      'user@localhost',
      'v@mail.example.com',
      'user@remote.org',
      'user@relay.org',
    ),
  },
  {
    name: 'resolve-virtual-classes-and-tables',
    main: [
      'virtual_alias_domains = valias.org, both.org',
      'virtual_mailbox_domains = vmbox.org, both.org, both2.org',
      'relay_domains = both.org, both2.org',
      'mydestination = $myhostname, mine.org, both.org',
      'transport_maps = inline:{valias.org=x:, vmbox.org=y:hop, valias2.org=x2:}',
      'relocated_maps = inline:{@valias2.org=z}',
      'virtual_alias_maps = inline:{@valias2.org=a@b.org}',
    ].join('\n'),
    requests: rs(
      '',
      'u@valias.org',
      'u@valias2.org',
      'u@vmbox.org',
      'u@both.org',
      'u@both2.org',
      'u@mine.org',
    ),
  },
  {
    name: 'resolve-relocated-failure',
    main: 'relocated_maps = fail:relocated',
    requests: rs('', 'u@remote.org', 'u'),
  },
  {
    name: 'resolve-table-failures',
    main: 'transport_maps = fail:transport\nrelay_domains = relay.org',
    requests: rs('', 'u@remote.org', 'u@relay.org', 'u@mail.example.com', 'user@'),
  },
  {
    // Nothing after "error:" or "retry:": Postfix's trivial-rewrite supplies the reason.
    name: 'resolve-error-retry-empty-nexthop',
    main: [
      'transport_maps = texthash:%DIR%/transport',
      'relay_domains = relay.org relay2.org relay3.org',
      'relay_transport = error:',
      'default_transport = retry:',
    ].join('\n'),
    files: {
      transport:
        'e.org error:\nr.org retry:\ne2.org error:5.1.2 gone\ns.org smtp:\nu@m.org error:\nx.org error\nrelay2.org :\nrelay3.org :[hop]\n',
    },
    requests: rs(
      '',
      'u@x.org',
      'u@e.org',
      'u@r.org',
      'u@e2.org',
      'u@s.org',
      'u@m.org',
      'u@relay.org',
      'u@relay2.org',
      'u@relay3.org',
      'u@other.org',
    ),
  },
  {
    name: 'resolve-domain-list-failure',
    main: 'relay_domains = fail:relay\nmydestination = $myhostname',
    requests: rs('', 'u@remote.org', 'u@mail.example.com', 'u'),
  },
];
