/*
 * addr_map - cleanup's address mapping: what Postfix's cleanup does to
 * envelope and header addresses before a message is queued
 *
 * AddressMapper, per message (its options are the message's cleanup
 * flags; the tables are opened once per MainConfig and shared):
 *   envelopeSender     trivial-rewrite (local context); MAILER-DAEMON@$myorigin
 *                      becomes the null sender; then sender_canonical_maps,
 *                      canonical_maps and masquerading, each as its *_classes
 *                      parameter says (envelope_sender).
 *   envelopeRecipient  the same for a recipient (recipient_canonical_maps,
 *                      envelope_recipient); the null recipient is
 *                      $empty_address_recipient.
 *   virtualAlias       virtual_alias_maps expansion: recursive, an address
 *                      that maps to itself is kept and not expanded again,
 *                      virtual_alias_expansion_limit/_recursion_limit/
 *                      _address_length_limit defer the message, duplicates
 *                      (ignoring case) removed, unmatched extensions propagated.
 *   headerValue        the addresses of a sender or recipient header
 *                      (addr_header.ts), in the client's rewrite context.
 *   bcc                always_bcc, sender_bcc_maps, recipient_bcc_maps.
 * All addresses are in internal (unquoted) form. Without the mapping
 * option only trivial-rewrite applies; without rewriteHeaders headers come
 * back untouched.
 *
 * A table that cannot answer defers the message ({ok: false}), with
 * Postfix's warning and reason: "4.3.0 queue file write error" (stat
 * WRITE), or "4.6.0 Alias expansion error" for virtual alias trouble.
 * canonical_maps nesting deeper than 10 is only a warning, as in Postfix.
 */
import type { MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { quote822Local, unquote822Local } from '../global/tok822.js';
import { listItems } from '../maps/braces.js';
import { type Dict, DictOpenError, READ_FLAGS, retry } from '../maps/dict.js';
import { openDict } from '../maps/index.js';
import { DomainList } from '../trivial-rewrite/domain_list.js';
import { Resolver } from '../trivial-rewrite/resolve.js';
import { type RewriteParams, rewriteParams } from '../trivial-rewrite/rewrite.js';
import { type AddrTables, type FindContext, findAddress, mapAddress } from './addr_find.js';
import { headerClass, rewriteHeaderValue, type Step } from './addr_header.js';
import { type Masquerade, masquerade } from './addr_masq.js';
import { rewriteClnt } from './addr_rewrite.js';

export type MapResult<T> = { ok: true; value: T } | { ok: false; defer: string; stat?: number };

export interface MapperOptions {
  /** CLEANUP_FLAG_MAP_OK: canonical, masquerade, virtual alias. */
  mapping: boolean;
  /** CLEANUP_FLAG_BCC_OK. */
  bcc: boolean;
  /** trivial-rewrite context for header addresses. */
  context: 'local' | 'remote';
  /** false: leave header addresses alone (remote client, no remote_header_rewrite_domain). */
  rewriteHeaders: boolean;
  /** Queue ID for warnings ("QUEUEID: warning: ..."); can also be set later. */
  queueId?: string;
}

/** CLEANUP_STAT_WRITE and CLEANUP_STAT_DEFER (cleanup_client.ts). */
const STAT_WRITE = 1 << 1;
const STAT_DEFER = 1 << 8;
const WRITE_ERROR = '4.3.0 queue file write error';
const ALIAS_ERROR = '4.6.0 Alias expansion error';

type Cls = 'envelope_sender' | 'envelope_recipient' | 'header_sender' | 'header_recipient';
const CLASS_NAMES: readonly Cls[] = [
  'envelope_sender',
  'envelope_recipient',
  'header_sender',
  'header_recipient',
];

interface Shared {
  readonly send: AddrTables;
  readonly rcpt: AddrTables;
  readonly comm: AddrTables;
  readonly virt: AddrTables;
  readonly sendBcc: AddrTables;
  readonly rcptBcc: AddrTables;
  readonly sendClasses: ReadonlySet<string>;
  readonly rcptClasses: ReadonlySet<string>;
  readonly commClasses: ReadonlySet<string>;
  readonly masqClasses: ReadonlySet<string>;
  readonly masq: Masquerade;
  readonly propCanonical: boolean;
  readonly propVirtual: boolean;
  readonly recursionLimit: number;
  readonly expansionLimit: number;
  readonly addrLengthLimit: number;
  readonly tokenLimit: number;
  readonly emptyRecipient: string;
  readonly alwaysBcc: string;
  readonly rw: RewriteParams;
  readonly find: FindContext;
  close(): Promise<void>;
}

const shared = new WeakMap<MainConfig, Promise<Shared>>();

export class AddressMapper {
  queueId: string;

  private constructor(
    private readonly s: Shared,
    private readonly opts: MapperOptions,
  ) {
    this.queueId = opts.queueId ?? 'NOQUEUE';
  }

  static async open(cfg: MainConfig, opts: MapperOptions): Promise<AddressMapper> {
    let p = shared.get(cfg);
    if (p === undefined) {
      p = openShared(cfg);
      shared.set(cfg, p);
      p.catch(() => shared.delete(cfg));
    }
    return new AddressMapper(await p, opts);
  }

  /** Close the tables shared by every mapper of this configuration. */
  static async release(cfg: MainConfig): Promise<void> {
    const p = shared.get(cfg);
    shared.delete(cfg);
    // A configuration that failed to open has nothing to close.
    const s = await p?.catch(() => null);
    await s?.close();
  }

  async envelopeSender(addr: string): Promise<MapResult<string>> {
    let clean = this.#rewrite('local', addr);
    if (clean.toLowerCase().startsWith('mailer-daemon@')) {
      if (clean.toLowerCase() === this.#rewrite('local', 'MAILER-DAEMON').toLowerCase()) clean = '';
    }
    return this.#envelopeMaps(clean, 'envelope_sender', this.s.send, this.s.sendClasses);
  }

  async envelopeRecipient(addr: string): Promise<MapResult<string>> {
    const clean = this.#rewrite('local', addr === '' ? this.s.emptyRecipient : addr);
    return this.#envelopeMaps(clean, 'envelope_recipient', this.s.rcpt, this.s.rcptClasses);
  }

  async virtualAlias(addr: string): Promise<MapResult<string[]>> {
    const s = this.s;
    if (!this.opts.mapping || s.virt.dicts?.length === 0) return { ok: true, value: [addr] };
    const list = [addr];
    // Addresses that expanded into themselves: kept, never expanded again.
    const selfExpanded = new Set<string>();
    const fail = (text: string, stat: number): MapResult<string[]> => {
      msg.warn(`${this.queueId}: ${text} -- message not accepted, try again later`);
      return { ok: false, defer: ALIAS_ERROR, stat };
    };
    for (let arg = 0; arg < list.length; arg++) {
      if (list.length > s.expansionLimit)
        return fail(`unreasonable ${s.virt.title} map expansion size for ${addr}`, STAT_DEFER);
      for (let count = 0; ; count++) {
        const cur = list[arg]!;
        if (selfExpanded.has(cur.toLowerCase())) break;
        if (count >= s.recursionLimit)
          return fail(`unreasonable ${s.virt.title} map nesting for ${addr}`, STAT_DEFER);
        const r = await mapAddress(s.virt, cur, s.find, s.propVirtual);
        if (r.kind === 'notfound') break;
        if (r.kind === 'retry') return fail(`${s.virt.title} map lookup problem for ${addr}`, STAT_WRITE);
        for (const [i, next] of r.addrs.entries()) {
          if (quote822Local(next).length > s.addrLengthLimit)
            return fail(
              `unreasonable ${s.virt.title} result ${quote822Local(next).slice(0, 300)}...`,
              STAT_DEFER,
            );
          if (i === 0) list[arg] = next;
          else list.push(next);
          if (cur.toLowerCase() === next.toLowerCase()) selfExpanded.add(cur.toLowerCase());
        }
      }
    }
    const seen = new Set<string>();
    return { ok: true, value: list.filter((a) => !seen.has(a.toLowerCase()) && seen.add(a.toLowerCase())) };
  }

  async headerValue(name: string, value: string): Promise<MapResult<string>> {
    const cls = headerClass(name);
    if (cls === null || !this.opts.rewriteHeaders) return { ok: true, value };
    const context = this.opts.context;
    const steps: Step[] = [
      async (ext) => {
        const out = rewriteClnt(this.s.rw, context, ext);
        return { addr: out, changed: out !== ext };
      },
    ];
    if (this.opts.mapping) {
      const s = this.s;
      const want: Cls = cls === 'sender' ? 'header_sender' : 'header_recipient';
      const own = cls === 'sender' ? s.send : s.rcpt;
      const ownClasses = cls === 'sender' ? s.sendClasses : s.rcptClasses;
      if (own.dicts?.length !== 0 && ownClasses.has(want)) steps.push((ext) => this.#map11(own, ext));
      if (s.comm.dicts?.length !== 0 && s.commClasses.has(want))
        steps.push((ext) => this.#map11(s.comm, ext));
      if (s.masq.domains.length > 0 && s.masqClasses.has(want)) steps.push((ext) => this.#masquerade(ext));
    }
    const r = await rewriteHeaderValue(name, value, steps, this.s.tokenLimit, (t) => msg.warn(t));
    return 'defer' in r ? { ok: false, defer: r.defer, stat: STAT_WRITE } : { ok: true, value: r.value };
  }

  /**
   * The recipients always_bcc, sender_bcc_maps and recipient_bcc_maps add,
   * as the tables give them (internal form, not yet rewritten): the
   * sender's first, then one per recipient, always_bcc last. `sender` and
   * `recipients` are envelopeSender/envelopeRecipient results. Give each
   * result to envelopeRecipient and virtualAlias like any recipient (but
   * not to bcc again), as Postfix does.
   */
  async bcc(sender: string, recipients: readonly string[]): Promise<MapResult<string[]>> {
    if (!this.opts.bcc) return { ok: true, value: [] };
    const s = this.s;
    const out: string[] = [];
    const look = async (tables: AddrTables, addr: string): Promise<boolean> => {
      if (addr === '' || tables.dicts?.length === 0) return true;
      const r = await findAddress(tables, addr, s.find, 'external-first');
      if (r.kind === 'found') out.push(r.value);
      if (r.kind !== 'retry') return true;
      msg.warn(
        `${this.queueId}: ${tables.title} map lookup problem -- message not accepted, try again later`,
      );
      return false;
    };
    if (!(await look(s.sendBcc, sender))) return { ok: false, defer: WRITE_ERROR, stat: STAT_WRITE };
    for (const rcpt of recipients)
      if (!(await look(s.rcptBcc, rcpt))) return { ok: false, defer: WRITE_ERROR, stat: STAT_WRITE };
    if (recipients.length > 0 && s.alwaysBcc !== '') out.push(s.alwaysBcc);
    return { ok: true, value: out };
  }

  /** Nothing per message to release: the tables are shared (see release). */
  async close(): Promise<void> {}

  /** trivial-rewrite on an internal-form address. */
  #rewrite(context: 'local' | 'remote', addr: string): string {
    if (addr === '') return '';
    return unquote822Local(rewriteClnt(this.s.rw, context, quote822Local(addr)));
  }

  async #envelopeMaps(clean: string, cls: Cls, own: AddrTables, ownClasses: ReadonlySet<string>) {
    if (!this.opts.mapping) return { ok: true as const, value: clean };
    const s = this.s;
    let ext = quote822Local(clean);
    for (const [tables, classes] of [
      [own, ownClasses],
      [s.comm, s.commClasses],
    ] as const) {
      if (tables.dicts?.length === 0 || !classes.has(cls)) continue;
      const r = await this.#map11(tables, ext);
      if ('defer' in r) return { ok: false as const, defer: r.defer, stat: STAT_WRITE };
      ext = r.addr;
    }
    if (s.masq.domains.length > 0 && s.masqClasses.has(cls)) {
      const r = await this.#masquerade(ext);
      if ('defer' in r) return { ok: false as const, defer: r.defer, stat: STAT_WRITE };
      ext = r.addr;
    }
    return { ok: true as const, value: unquote822Local(ext) };
  }

  /** One-to-one mapping (canonical), external form in and out, at most 10 levels deep. */
  async #map11(
    tables: AddrTables,
    start: string,
  ): Promise<{ addr: string; changed: boolean } | { defer: string }> {
    let ext = start;
    let changed = false;
    for (let count = 0; count < 10; count++) {
      const r = await mapAddress(tables, unquote822Local(ext), this.s.find, this.s.propCanonical);
      if (r.kind === 'notfound') return { addr: ext, changed };
      if (r.kind === 'retry') {
        msg.warn(
          `${this.queueId}: ${tables.title} map lookup problem for ${ext} -- message not accepted, try again later`,
        );
        return { defer: WRITE_ERROR };
      }
      if (r.addrs.length > 1) msg.warn(`${this.queueId}: multi-valued ${tables.title} entry for ${ext}`);
      const next = quote822Local(r.addrs[0]!);
      changed ||= next !== ext;
      const self = next.toLowerCase() === ext.toLowerCase();
      ext = next;
      if (self) return { addr: ext, changed };
    }
    msg.warn(
      `${this.queueId}: unreasonable ${tables.title} map nesting for ${ext} -- message not accepted, try again later`,
    );
    return { addr: ext, changed };
  }

  async #masquerade(ext: string): Promise<{ addr: string; changed: boolean } | { defer: string }> {
    const r = await masquerade(this.s.masq, ext);
    if (r.retry) {
      msg.info(
        `${this.queueId}: masquerade_exceptions map lookup problem -- message not accepted, try again later`,
      );
      return { defer: WRITE_ERROR };
    }
    return { addr: r.addr, changed: r.changed };
  }
}

async function openShared(cfg: MainConfig): Promise<Shared> {
  const opened: Dict[] = [];
  const tables = async (param: string): Promise<AddrTables> => {
    const specs = listItems(cfg.get(param));
    const dicts = await Promise.all(
      specs.map((spec) =>
        openDict(spec, { ...READ_FLAGS, title: param }).catch((e: unknown): Dict => {
          if (!(e instanceof DictOpenError)) throw e;
          // As Postfix's surrogate table: every lookup fails, mail waits.
          msg.warn(`${spec} is unavailable. ${e.message}`);
          const colon = spec.indexOf(':');
          return {
            type: spec.slice(0, colon),
            name: spec.slice(colon + 1),
            lookup: async () => retry(e.message),
            close: async () => {},
          };
        }),
      ),
    );
    opened.push(...dicts);
    return { title: param, dicts };
  };
  const resolver = new Resolver(cfg);
  const rw = rewriteParams(cfg);
  const exceptions = cfg.get('masquerade_exceptions');
  const exceptionList =
    exceptions.trim() === ''
      ? null
      : new DomainList(
          'masquerade_exceptions',
          exceptions,
          cfg.get('parent_domain_matches_subdomains'),
          'string',
        );
  const prop = nameMask(cfg, 'propagate_unmatched_extensions', [
    'canonical',
    'virtual',
    'alias',
    'forward',
    'include',
    'generic',
  ]);
  return {
    send: await tables('sender_canonical_maps'),
    rcpt: await tables('recipient_canonical_maps'),
    comm: await tables('canonical_maps'),
    virt: await tables('virtual_alias_maps'),
    sendBcc: await tables('sender_bcc_maps'),
    rcptBcc: await tables('recipient_bcc_maps'),
    sendClasses: nameMask(
      cfg,
      'sender_canonical_classes',
      ['envelope_sender', 'header_sender'],
      'canonical_classes',
    ),
    rcptClasses: nameMask(
      cfg,
      'recipient_canonical_classes',
      ['envelope_recipient', 'header_recipient'],
      'canonical_classes',
    ),
    commClasses: nameMask(cfg, 'canonical_classes', CLASS_NAMES),
    masqClasses: nameMask(cfg, 'masquerade_classes', CLASS_NAMES),
    masq: {
      domains: cfg
        .get('masquerade_domains')
        .split(/[\s,]+/)
        .filter((d) => d !== ''),
      exceptions: exceptionList,
    },
    propCanonical: prop.has('canonical'),
    propVirtual: prop.has('virtual'),
    recursionLimit: cfg.int('virtual_alias_recursion_limit'),
    expansionLimit: cfg.int('virtual_alias_expansion_limit'),
    addrLengthLimit: cfg.int('virtual_alias_address_length_limit'),
    tokenLimit: cfg.int('header_address_token_limit'),
    emptyRecipient: cfg.get('empty_address_recipient'),
    alwaysBcc: cfg.get('always_bcc'),
    rw,
    find: {
      recipientDelimiter: cfg.get('recipient_delimiter'),
      myorigin: cfg.get('myorigin'),
      doubleBounceSender: cfg.get('double_bounce_sender'),
      ownerRequestSpecial: cfg.bool('owner_request_special'),
      isLocal: (domain) => resolver.isLocalDomain(domain),
      rewriteLocal: (ext) => rewriteClnt(rw, 'local', ext),
    },
    async close() {
      for (const d of opened) await d.close();
      await exceptionList?.close();
      await resolver.close();
    },
  };
}

/** A list of names from a fixed set; an unknown name is fatal, in Postfix's words. */
function nameMask(cfg: MainConfig, param: string, known: readonly string[], context = param): Set<string> {
  const value = cfg.get(param);
  const out = new Set<string>();
  for (const word of value.split(/[\s,]+/).filter((w) => w !== '')) {
    const w = word.toLowerCase();
    if (!known.includes(w)) msg.fatal(`unknown ${context} value "${word}" in "${value}"`);
    out.add(w);
  }
  return out;
}
