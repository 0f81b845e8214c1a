/*
 * resolve - trivial-rewrite's "resolve sender address" request
 *
 * Turns a recipient (internal form) into {transport, nexthop, recipient,
 * flags}, as Postfix 3.7's resolver does (checked against it, see
 * docs/trivial-rewrite.md):
 *  1. The null address becomes $empty_address_recipient. In a loop: one
 *     trailing dot of the domain goes; with resolve_null_domain a final
 *     "@" goes; "@domain" is set aside when the domain is local (or
 *     empty) and what is left is routed again when it still has "@", or
 *     "!" / "%" (swap_bangpath, allow_percent_hack), each step
 *     canonicalized as in the local rewriting context. A source route is
 *     kept unless such a step strips it. resolve_dequoted_address=no hides
 *     operators inside quoted local parts.
 *  2. An address without domain gets "@$myhostname". A domain must be a
 *     valid host name or [address literal] (user@1.2.3.4 only with
 *     resolve_numeric_domain); otherwise the ERROR flag, class default and
 *     Postfix's "CHANNEL NOT UPDATED" placeholders.
 *  3. Address class: local ($mydestination, or a literal of
 *     $inet_interfaces/$proxy_interfaces), virtual alias domain (error:
 *     User unknown), virtual mailbox domain ($virtual_transport), relay
 *     domain ($relay_transport), else default ($default_transport, or
 *     sender_dependent_default_transport_maps). Off-host classes take
 *     sender_dependent_relayhost_maps / $relayhost as nexthop when the
 *     transport names none.
 *  4. transport_maps (transport(5) search order and result format) may
 *     then change transport and nexthop (not for virtual alias domains);
 *     a relocated_maps entry makes it error:5.1.6 User has moved to <value>.
 * Any table that answers retry sets the FAIL flag: the caller must defer,
 * the other fields are then not to be used. defer is set when the final
 * transport is listed in $defer_transports. "verify" requests (address
 * probes) use a Resolver built with { verify: true }.
 */
import {
  domainLiteralAddress,
  internalize,
  isIPv4,
  isValidHostname,
  lastOperator,
  quote822Local,
  splitInternal,
} from '../global/address.js';
import type { MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { addressMapKeys, type SearchKey, searchKeys, transportKeys } from '../maps/access_search.js';
import { listItems } from '../maps/braces.js';
import { type Dict, DictOpenError, READ_FLAGS, retry } from '../maps/dict.js';
import { openDict } from '../maps/index.js';
import { DomainList } from './domain_list.js';
import { localInterfaceAddresses, normalizeIp } from './interfaces.js';
import {
  type RewriteParams,
  rewriteExternal,
  rewriteParams,
  routeOperator,
  stripTrailingDot,
} from './rewrite.js';

/** Postfix's resolve_clnt.h flag bits, so the numbers match its protocol. */
export const RESOLVE_FLAG_FINAL = 1 << 0;
export const RESOLVE_FLAG_ROUTED = 1 << 1;
export const RESOLVE_FLAG_ERROR = 1 << 2;
export const RESOLVE_FLAG_FAIL = 1 << 3;
export const RESOLVE_CLASS_LOCAL = 1 << 8;
export const RESOLVE_CLASS_ALIAS = 1 << 9;
export const RESOLVE_CLASS_VIRTUAL = 1 << 10;
export const RESOLVE_CLASS_RELAY = 1 << 11;
export const RESOLVE_CLASS_DEFAULT = 1 << 12;

export interface Resolved {
  readonly transport: string;
  readonly nexthop: string;
  /** Internal form. */
  readonly recipient: string;
  readonly flags: number;
  /** The transport is listed in $defer_transports. */
  readonly defer: boolean;
}

/** The parameters the resolver reads, already expanded. */
export const RESOLVE_PARAMS = [
  'myhostname',
  'mydestination',
  'inet_interfaces',
  'proxy_interfaces',
  'inet_protocols',
  'virtual_alias_domains',
  'virtual_mailbox_domains',
  'relay_domains',
  'parent_domain_matches_subdomains',
  'local_transport',
  'virtual_transport',
  'relay_transport',
  'default_transport',
  'relayhost',
  'transport_maps',
  'relocated_maps',
  'sender_dependent_relayhost_maps',
  'sender_dependent_default_transport_maps',
  'empty_address_relayhost_maps_lookup_key',
  'empty_address_default_transport_maps_lookup_key',
  'empty_address_recipient',
  'defer_transports',
  'recipient_delimiter',
  'swap_bangpath',
  'allow_percent_hack',
  'resolve_null_domain',
  'resolve_dequoted_address',
  'resolve_numeric_domain',
  'allow_min_user',
] as const;

/** Parameters that address probes take from address_verify_<name>. */
const VERIFY_PARAMS: ReadonlySet<string> = new Set([
  'local_transport',
  'virtual_transport',
  'relay_transport',
  'default_transport',
  'relayhost',
  'transport_maps',
  'sender_dependent_relayhost_maps',
  'sender_dependent_default_transport_maps',
]);

type Settings = { readonly [K in (typeof RESOLVE_PARAMS)[number]]: string };

/** What Postfix's resolver answers in fields it did not get to fill. */
export const NOT_UPDATED = Object.freeze({
  transport: 'CHANNEL NOT UPDATED',
  nexthop: 'NEXTHOP NOT UPDATED',
  recipient: 'NEXTRCPT NOT UPDATED',
});

export class Resolver {
  readonly #s: Settings;
  readonly #bool: (name: keyof Settings) => boolean;
  readonly #mydestination: DomainList;
  readonly #aliasDomains: DomainList;
  readonly #mailboxDomains: DomainList;
  readonly #relayDomains: DomainList;
  #interfaces: Promise<Set<string>> | null = null;
  readonly #interfaceParams: readonly [string, string, string];
  readonly #rewrite: RewriteParams;
  readonly #maps = new Map<string, Promise<Dict[]>>();

  /**
   * @param opts.verify answer "verify" requests (address probes): the
   *   routing parameters are then address_verify_local_transport,
   *   address_verify_transport_maps... as in Postfix.
   */
  constructor(cfg: MainConfig, opts: { verify?: boolean } = {}) {
    const s: Record<string, string> = {};
    for (const name of RESOLVE_PARAMS)
      s[name] = cfg.get(opts.verify && VERIFY_PARAMS.has(name) ? `address_verify_${name}` : name);
    this.#s = s as Settings;
    this.#bool = (name) => cfg.bool(name);
    // The resolver canonicalizes without appending @$myorigin: an address
    // left without domain gets the domain set aside, else @$myhostname.
    this.#rewrite = { ...rewriteParams(cfg), appendAtMyorigin: false };
    for (const b of ['swap_bangpath', 'allow_percent_hack', 'resolve_null_domain'] as const) this.#bool(b);
    const parent = this.#s.parent_domain_matches_subdomains;
    this.#mydestination = new DomainList('mydestination', this.#s.mydestination, parent, 'string');
    this.#aliasDomains = new DomainList(
      'virtual_alias_domains',
      this.#s.virtual_alias_domains,
      parent,
      'string',
    );
    this.#mailboxDomains = new DomainList(
      'virtual_mailbox_domains',
      this.#s.virtual_mailbox_domains,
      parent,
      'string',
    );
    this.#relayDomains = new DomainList('relay_domains', this.#s.relay_domains, parent, 'domain');
    this.#interfaceParams = [this.#s.inet_interfaces, this.#s.proxy_interfaces, this.#s.inet_protocols];
  }

  /** Is the domain this machine's ($mydestination or a local [address])? retry when a table could not say. */
  async isLocalDomain(domain: string): Promise<boolean | 'retry'> {
    const lit = domainLiteralAddress(domain);
    if (lit !== null) {
      this.#interfaces ??= localInterfaceAddresses(...this.#interfaceParams);
      if ((await this.#interfaces).has(normalizeIp(lit))) return true;
    }
    const m = await this.#mydestination.match(domain);
    return m === 'retry' ? 'retry' : m === 'match';
  }

  /** Resolve recipient `addr` (internal form) for mail from `sender` (internal form, '' for the null sender). */
  async resolve(sender: string, addr: string): Promise<Resolved> {
    const dequoted = this.#bool('resolve_dequoted_address');
    let a = addr === '' ? this.#s.empty_address_recipient : dequoted ? addr : quote822Local(addr);
    const ops = {
      swapBangpath: this.#bool('swap_bangpath'),
      allowPercentHack: this.#bool('allow_percent_hack'),
    };
    // A local domain set aside stays set aside while the rest is re-routed:
    // local!!user ends as user@local, not user@$myhostname.
    let saved = '';
    for (let guard = 0; guard < 100; guard++) {
      a = stripDomainDot(a);
      if (this.#bool('resolve_null_domain') && a !== '' && lastOperator(a, '@') === a.length - 1) {
        // What is left is canonicalized only when it still has a domain
        // (Postfix: "first.last.@" resolves to "first.last.@$myhostname").
        a = a.slice(0, -1);
        if (lastOperator(a, '@') >= 0) a = rewriteExternal(this.#rewrite, 'local', a);
        continue;
      }
      // Set aside "@domain" when the domain is this machine's (or empty), and
      // look at what is left for more routing: user%remote@here.
      const at = lastOperator(a, '@');
      if (at >= 0) {
        const domain = a.slice(at + 1);
        if (domain !== '') {
          const isLocal = await this.isLocalDomain(domain);
          if (isLocal === 'retry') return this.#failed(NOT_UPDATED.recipient, 0);
          if (!isLocal) break;
        }
        saved = a.slice(at);
        a = a.slice(0, at);
        // Nothing left of a local address: it is the null address.
        if (a === '') a = this.#s.empty_address_recipient;
      }
      // Each step is canonicalized as in the local context.
      const routed = lastOperator(a, '@') >= 0 ? a : resolverOperator(ops, a);
      if (routed !== a || lastOperator(a, '@') >= 0) {
        a = rewriteExternal(this.#rewrite, 'local', routed);
        continue;
      }
      if (lastOperator(a, '@') < 0) a += saved;
      break;
    }
    if (a === '') a = this.#s.empty_address_recipient;
    if (lastOperator(a, '@') < 0) a = `${a}@${this.#s.myhostname}`;
    let recipient = internalize(a, dequoted);
    let { local, domain } = splitInternal(recipient);
    if (local === '' && domain === '') {
      local = this.#s.empty_address_recipient;
      recipient = `${local}@`;
    }
    let flags = 0;
    if (domain === null || !this.#validDomain(domain)) {
      return this.#done(
        NOT_UPDATED.transport,
        NOT_UPDATED.nexthop,
        recipient,
        RESOLVE_FLAG_ERROR | RESOLVE_CLASS_DEFAULT,
      );
    }
    // Routing operators left in the local part, whatever the settings: smtpd's allow_untrusted_routing.
    if (/[@!%]/.test(local)) flags |= RESOLVE_FLAG_ROUTED;
    if (this.#bool('resolve_numeric_domain') && isIPv4(domain)) {
      domain = `[${domain}]`;
      recipient = `${local}@${domain}`;
    }
    const r = await this.#classify(sender, recipient, domain, flags);
    // Leading "-" could pass for a command-line option later on (allow_min_user).
    if (recipient.startsWith('-') && !this.#bool('allow_min_user') && !(r.flags & RESOLVE_FLAG_FAIL)) {
      return { ...r, flags: r.flags | RESOLVE_FLAG_ERROR };
    }
    return r;
  }

  #validDomain(domain: string): boolean {
    if (domain.startsWith('[')) return domainLiteralAddress(domain) !== null;
    if (isValidHostname(domain)) return true;
    return this.#bool('resolve_numeric_domain') && isIPv4(domain);
  }

  /** A table could not answer: the caller defers; fields not yet known keep Postfix's placeholders. */
  #failed(recipient: string, flags: number): Resolved {
    return this.#done(NOT_UPDATED.transport, NOT_UPDATED.nexthop, recipient, flags | RESOLVE_FLAG_FAIL);
  }

  async #classify(sender: string, recipient: string, domain: string, flags0: number): Promise<Resolved> {
    let flags = flags0;
    let channel: string;
    const local = await this.isLocalDomain(domain);
    if (local === 'retry') return this.#failed(NOT_UPDATED.recipient, flags);
    if (local) {
      flags |= RESOLVE_CLASS_LOCAL;
      channel = this.#s.local_transport;
    } else {
      const alias = await this.#aliasDomains.match(domain);
      if (alias === 'retry') return this.#failed(recipient, flags);
      if (alias === 'match') {
        flags |= RESOLVE_CLASS_ALIAS;
        // Not routed by transport_maps (cleanup should have aliased it), but relocated_maps still applies.
        return this.#relocated(recipient, flags, 'error', '5.1.1 User unknown in virtual alias table');
      }
      const mailbox = await this.#mailboxDomains.match(domain);
      if (mailbox === 'retry') return this.#failed(recipient, flags);
      if (mailbox === 'match') {
        flags |= RESOLVE_CLASS_VIRTUAL;
        channel = this.#s.virtual_transport;
      } else {
        const relay = await this.#relayDomains.match(domain);
        if (relay === 'retry') return this.#failed(recipient, flags);
        if (relay === 'match') {
          flags |= RESOLVE_CLASS_RELAY;
          channel = this.#s.relay_transport;
        } else {
          flags |= RESOLVE_CLASS_DEFAULT;
          const sdt = await this.#senderLookup(
            'sender_dependent_default_transport_maps',
            sender,
            this.#s.empty_address_default_transport_maps_lookup_key,
          );
          if (sdt === 'retry') return this.#failed(recipient, flags0);
          channel = sdt ?? this.#s.default_transport;
        }
      }
    }
    let [transport, nexthop] = splitChannel(channel);
    if (nexthop === '' && flags & (RESOLVE_CLASS_RELAY | RESOLVE_CLASS_DEFAULT)) {
      const sdr = await this.#senderLookup(
        'sender_dependent_relayhost_maps',
        sender,
        this.#s.empty_address_relayhost_maps_lookup_key,
      );
      if (sdr === 'retry')
        return this.#done(transport, NOT_UPDATED.nexthop, recipient, flags | RESOLVE_FLAG_FAIL);
      nexthop = sdr ?? this.#s.relayhost;
    }
    if (nexthop === '') nexthop = domain;
    const t = await this.#transportLookup(recipient);
    if (t === 'retry') flags |= RESOLVE_FLAG_FAIL;
    else if (t !== null) {
      const [tt, tn] = splitChannel(t);
      if (tt !== '') {
        transport = tt;
        // error:/retry: from the table with no text still owes the sender a reason (Postfix's).
        nexthop = tn !== '' ? tn : tt === 'error' || tt === 'retry' ? UNDELIVERABLE : domain;
      } else if (tn !== '') nexthop = tn;
    }
    return this.#relocated(recipient, flags, transport, nexthop);
  }

  /** The answer, unless relocated_maps says the user has moved. */
  async #relocated(recipient: string, flags: number, transport: string, nexthop: string): Promise<Resolved> {
    const moved = await this.#relocatedLookup(recipient, (flags & RESOLVE_CLASS_LOCAL) !== 0);
    if (moved === 'retry') return this.#done(transport, nexthop, recipient, flags | RESOLVE_FLAG_FAIL);
    if (moved !== null) return this.#done('error', `5.1.6 User has moved to ${moved}`, recipient, flags);
    return this.#done(transport, nexthop, recipient, flags);
  }

  /** relocated_maps (relocated(5) search order; the bare user only in a local domain). */
  async #relocatedLookup(recipient: string, local: boolean): Promise<string | null | 'retry'> {
    const maps = await this.#tables('relocated_maps');
    if (maps === null) return 'retry';
    if (maps.length === 0) return null;
    const keys = addressMapKeys(recipient, {
      recipientDelimiter: this.#s.recipient_delimiter,
      isLocal: () => local,
    });
    return this.#search('relocated_maps', maps, keys);
  }

  #done(transport: string, nexthop: string, recipient: string, flags: number): Resolved {
    const defer = this.#s.defer_transports.split(/[\s,]+/).some((t) => t !== '' && t === transport);
    return { transport, nexthop, recipient, flags, defer };
  }

  async #transportLookup(recipient: string): Promise<string | null | 'retry'> {
    const maps = await this.#tables('transport_maps');
    if (maps === null) return 'retry';
    if (maps.length === 0) return null;
    const keys = transportKeys(recipient, {
      parentMatches: this.#s.parent_domain_matches_subdomains.split(/[\s,]+/).includes('transport_maps'),
      recipientDelimiter: this.#s.recipient_delimiter,
    });
    return this.#search('transport_maps', maps, keys);
  }

  async #senderLookup(
    param: keyof Settings,
    sender: string,
    nullKey: string,
  ): Promise<string | null | 'retry'> {
    const maps = await this.#tables(param);
    if (maps === null) return 'retry';
    if (maps.length === 0) return null;
    const keys: SearchKey[] =
      sender === ''
        ? [{ key: nullKey, partial: false }]
        : addressMapKeys(sender, { recipientDelimiter: this.#s.recipient_delimiter });
    return this.#search(param, maps, keys);
  }

  async #search(param: string, maps: Dict[], keys: SearchKey[]): Promise<string | null | 'retry'> {
    const r = await searchKeys(maps, keys);
    if (r.kind === 'retry') {
      msg.warn(`${param} lookup error for "${keys[0]?.key ?? ''}"`);
      return 'retry';
    }
    return r.kind === 'found' ? r.value : null;
  }

  /** The tables of a maps parameter, opened once; null when one cannot be opened (then: retry). */
  async #tables(param: keyof Settings): Promise<Dict[] | null> {
    let p = this.#maps.get(param);
    if (p === undefined) {
      const specs = listItems(this.#s[param]);
      p = Promise.all(
        specs.map((spec) =>
          openDict(spec, { ...READ_FLAGS, title: param }).catch((e: unknown): Dict => {
            if (!(e instanceof DictOpenError)) throw e;
            msg.warn(`${param}: ${e.message}`);
            return surrogate(spec, e.message);
          }),
        ),
      );
      this.#maps.set(param, p);
    }
    return p;
  }

  async close(): Promise<void> {
    for (const p of this.#maps.values()) for (const d of await p) await d.close();
    this.#maps.clear();
    for (const l of [this.#mydestination, this.#aliasDomains, this.#mailboxDomains, this.#relayDomains])
      await l.close();
  }
}

/** "transport:nexthop" split at the first colon; a value without colon is all transport. */
export function splitChannel(value: string): [string, string] {
  const colon = value.indexOf(':');
  return colon < 0 ? [value, ''] : [value.slice(0, colon), value.slice(colon + 1)];
}

/** "user@domain." to "user@domain"; not "..", "@." or a dot outside a domain. */
function stripDomainDot(a: string): string {
  return lastOperator(a, '@') >= 0 ? stripTrailingDot(a) : a;
}

/**
 * site!user to user@site, else user%domain to user@domain - except that
 * Postfix 3.7 takes the "%" first when the text ends in a dot (found by
 * asking it: a!b%c. resolves to a!b@c, a!b%c to b%c@a).
 */
function resolverOperator(ops: { swapBangpath: boolean; allowPercentHack: boolean }, a: string): string {
  const pct = lastOperator(a, '%');
  if (ops.allowPercentHack && pct >= 0 && a.endsWith('.')) return `${a.slice(0, pct)}@${a.slice(pct + 1)}`;
  return routeOperator(ops, a);
}

/** The reason an error:/retry: transport_maps entry without text gives. */
const UNDELIVERABLE = 'Address is undeliverable';

/** A table that could not be opened answers retry, so mail waits (Postfix's surrogate table). */
function surrogate(spec: string, reason: string): Dict {
  const colon = spec.indexOf(':');
  return {
    type: colon > 0 ? spec.slice(0, colon) : spec,
    name: colon > 0 ? spec.slice(colon + 1) : '',
    lookup: async () => retry(reason),
    close: async () => {},
  };
}
