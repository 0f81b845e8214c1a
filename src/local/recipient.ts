/*
 * recipient - what local(8) does for one recipient of a delivery request
 *
 * In Postfix's order: a Delivered-To: header naming the recipient bounces
 * it ("mail forwarding loop for ..."); then alias_maps (the whole local
 * part, then without its extension), the user's .forward (forward_path),
 * the mailbox (mailbox_transport(_maps), mailbox_command(_maps),
 * home_mailbox or mail_spool_directory, Maildir when the name ends in
 * "/"), and for unknown users fallback_transport(_maps), luser_relay or a
 * bounce 'unknown user: "name"'.
 *
 * One recipient can have several deliveries (an alias to a file, a
 * command and users); each is logged on its own, as Postfix does. The
 * recipient is marked done only when none of them was deferred;
 * otherwise the whole recipient is tried again later (duplicates to files
 * and commands are possible then, as in Postfix: at least once).
 * Local alias members are delivered here, as a new recipient address with
 * the original recipient kept; members of lists with an owner- alias and
 * addresses from .forward and :include: files are re-submitted
 * (forward.ts). A duplicate filter keeps one request from delivering
 * twice to the same mailbox, file, command or address.
 *
 * An address probe (DEL_REQ_FLAG.VERIFY, sendmail -bv) takes the same
 * path (aliases, .forward and :include: are read) but writes no mailbox
 * or file and runs no command: each says what it would do, in Postfix's
 * words ("delivers to mailbox", "delivers to maildir", "delivers to
 * file: /path", "delivers to command: text"), and a probe is never left
 * to do (deliver_status.ts turns a deferral into "undeliverable").
 */

import { lstat, stat } from 'node:fs/promises';
import type { DeliveryJob } from '../global/deliver_agent.js';
import { DEL_REQ_FLAG, type DeliverRecipient, type RecipientOutcome } from '../global/deliver_request.js';
import { msg } from '../global/msg.js';
import { RpcClient } from '../global/rpc.js';
import { splitDictSpec } from '../maps/index.js';
import { servicePath } from '../master/trigger.js';
import {
  RESOLVE_CLASS_LOCAL,
  RESOLVE_FLAG_ERROR,
  RESOLVE_FLAG_FAIL,
  Resolver,
} from '../trivial-rewrite/resolve.js';
import { strerror } from '../util/strerror.js';
import { biffNotify } from './biff.js';
import { deliverCommand } from './command.js';
import { filterChars, type LocalAttrs, localExpand } from './expand.js';
import { Forwarder } from './forward.js';
import { deliveryHeaders, MailboxError, type MessageSource } from './mailbox_copy.js';
import { filterStatus, flush, type Sub } from './outcome.js';
import {
  type Parts,
  parts,
  readDeliveredTo,
  requestContent,
  splitExtension,
  unmatched,
} from './recipient_parts.js';
import type { ExpansionType, LocalSettings } from './settings.js';
import { createForUser, spoolDotLock } from './spool.js';
import { Tables } from './tables.js';
import { type Destination, parseFile, parseList } from './tokens.js';
import { runAs } from './user_ops.js';
import { lookupUid, lookupUser, type UserAttr } from './users.js';

interface Ctx {
  readonly top: DeliverRecipient;
  readonly rcpt: DeliverRecipient;
  readonly sender: string;
  readonly level: number;
  readonly expType?: ExpansionType;
  /** Alias names expanded on the way here, for loop detection. */
  readonly chain: readonly string[];
  /** The alias being expanded (its members that name it go to the user). */
  readonly aliasName?: string;
  /** The user whose .forward is being expanded. */
  readonly forwardUser?: string;
  /** Whose rights files and commands get: alias/:include: owner, or the user. */
  readonly privs?: UserAttr;
  /** A list with an owner- alias: its members are re-submitted. */
  readonly ownerForward: boolean;
  /** propagate_unmatched_extensions: delimiter and extension the lookup did not match ("+foo"). */
  readonly unmatched?: string;
}

interface RequestState {
  readonly job: DeliveryJob;
  readonly deliveredTo: ReadonlySet<string>;
  /** The duplicate filter: what each delivery already made in this request logged. */
  readonly dup: Map<string, { readonly top: number; readonly subs: Sub[] }>;
  forwarder: Forwarder;
  subs: Sub[];
  /** An address probe: report, deliver nothing. */
  readonly verify: boolean;
  /** The message content, for each delivery (read once when small). */
  readonly content: () => MessageSource;
}

const MAX_LEVEL = 100;
/** How long an alias table's owner is kept (as users.ts keeps passwd answers). */
const OWNER_TTL_MS = 60_000;
/** Local never changes its own uid: asked once, not for each delivery. */
let rootUid: boolean | undefined;
const isRoot = () => (rootUid ??= typeof process.getuid === 'function' && process.getuid() === 0);

export class LocalDelivery {
  readonly #t = new Tables();
  readonly #clients = new Map<string, RpcClient>();
  readonly #owners = new Map<string, { at: number; owner: Promise<UserAttr | undefined> }>();
  #resolver: Resolver | undefined;

  constructor(readonly s: LocalSettings) {}

  /** Deliver every recipient of the request and record each outcome. */
  async deliver(job: DeliveryJob): Promise<void> {
    const verify = ((job.req.flags ?? 0) & DEL_REQ_FLAG.VERIFY) !== 0;
    const content = await requestContent(job);
    const deliveredTo = await readDeliveredTo(content());
    const st: RequestState = {
      job,
      content,
      deliveredTo,
      dup: new Map(),
      forwarder: new Forwarder(),
      subs: [],
      verify,
    };
    for (const r of job.req.recipients) {
      st.subs = [];
      st.forwarder = new Forwarder();
      try {
        await this.#recipient(st, {
          top: r,
          rcpt: r,
          sender: job.req.sender,
          level: 0,
          chain: [],
          ownerForward: false,
        });
      } catch (e) {
        msg.warn(`${job.req.queue_id}: ${r.address}: ${e instanceof Error ? e.message : String(e)}`);
        st.subs.push({ rcpt: r, kind: 'defer', status: '4.3.0', reason: 'local delivery error' });
      }
      for (const f of await st.forwarder.finish(job)) st.subs.push(f);
      const subs =
        this.s.statusFilter.length === 0
          ? st.subs
          : await filterStatus(st.subs, (k) =>
              this.#t.find('local_delivery_status_filter', this.s.statusFilter, k),
            );
      await flush(job, r, subs, this.#relay(job), verify);
    }
  }

  #relay(job: DeliveryJob): string {
    return job.ctx.service;
  }

  /**
   * Run a delivery once per request: a second recipient that comes to the
   * same mailbox, file, command or address gets the first one's results.
   */
  async #once(st: RequestState, ctx: Ctx, key: string, work: () => Promise<void>): Promise<void> {
    const seen = st.dup.get(key);
    if (seen !== undefined) {
      if (seen.top === ctx.top.offset) return;
      // A pass to another transport or a re-submission covers only its own
      // recipient (and leaves no record here): those are done again.
      if (seen.subs.length > 0 && !seen.subs.some((s) => s.kind === 'passed')) {
        for (const s of seen.subs) {
          const same = s.rcpt.address === ctx.rcpt.address;
          const rcpt = same
            ? ctx.rcpt
            : { ...ctx.rcpt, address: s.rcpt.address, orig: ctx.rcpt.orig ?? ctx.rcpt.address };
          st.subs.push({ ...s, rcpt });
        }
        return;
      }
      await work();
      return;
    }
    const made: Sub[] = [];
    // duplicate_filter_limit: past it, nothing more is remembered (0: no limit).
    if (this.s.dupLimit === 0 || st.dup.size < this.s.dupLimit)
      st.dup.set(key, { top: ctx.top.offset, subs: made });
    const from = st.subs.length;
    await work();
    made.push(...st.subs.slice(from));
  }

  #sub(st: RequestState, ctx: Ctx, kind: Sub['kind'], status: string, reason: string): void {
    st.subs.push({ rcpt: ctx.rcpt, kind, status, reason });
  }

  async #recipient(st: RequestState, ctx: Ctx): Promise<void> {
    const addr = ctx.rcpt.address;
    if (st.deliveredTo.has(addr.toLowerCase()) || ctx.level > MAX_LEVEL) {
      this.#sub(st, ctx, 'bounce', '5.4.6', `mail forwarding loop for ${addr}`);
      return;
    }
    await this.#switch(st, ctx, parts(addr, this.s.delimiter), false);
  }

  async #switch(st: RequestState, ctx: Ctx, a: Parts, skipAlias: boolean): Promise<void> {
    if (!skipAlias) {
      if (await this.#alias(st, ctx, a.local, a)) return;
      if (a.extension !== undefined && (await this.#alias(st, ctx, a.user, a))) return;
    }
    let user: UserAttr | null;
    try {
      user = await lookupUser(a.user);
    } catch {
      this.#sub(st, ctx, 'defer', '4.3.0', 'user lookup error');
      return;
    }
    if (user && ctx.forwardUser !== user.name && (await this.#dotForward(st, ctx, a, user))) return;
    if (await this.#mailbox(st, ctx, a, user)) return;
    await this.#unknown(st, ctx, a);
  }

  // --- aliases

  async #alias(st: RequestState, ctx: Ctx, name: string, a: Parts): Promise<boolean> {
    if (this.s.aliasMaps.length === 0) return false;
    let value: string | undefined;
    let owner: UserAttr | undefined;
    for (const [i, d] of (await this.#t.tables('alias_maps', this.s.aliasMaps)).entries()) {
      const r = await d.lookup(name);
      if (r.kind === 'retry') {
        this.#sub(st, ctx, 'defer', '4.3.0', 'alias database unavailable');
        return true;
      }
      if (r.kind === 'found') {
        value = r.value;
        owner = await this.#tableOwner(this.s.aliasMaps[i] as string);
        break;
      }
    }
    if (value === undefined) return false;
    let sender = ctx.sender;
    let ownerForward = ctx.ownerForward;
    if (!name.startsWith('owner-')) {
      const o = await this.#t.find('alias_maps', this.s.aliasMaps, `owner-${name}`);
      if (o === 'retry') {
        this.#sub(st, ctx, 'defer', '4.3.0', 'alias database unavailable');
        return true;
      }
      if (o !== null) {
        sender = this.s.expandOwnerAlias && !o.includes(',') ? o.trim() : `owner-${name}@${this.s.myorigin}`;
        ownerForward = true;
      }
    }
    const dests = parseList(value);
    if (dests.length === 0) {
      this.#sub(st, ctx, 'bounce', '5.3.0', `no recipient in alias lookup result for ${name}`);
      return true;
    }
    const next: Ctx = {
      ...ctx,
      sender,
      ownerForward,
      expType: 'alias',
      aliasName: name,
      chain: [...ctx.chain, name],
      forwardUser: undefined,
      unmatched: name !== a.local && this.s.propagate.has('alias') ? unmatched(a) : undefined,
      ...(owner ? { privs: owner } : {}),
    };
    for (const d of dests) await this.#destination(st, next, d, a);
    return true;
  }

  /**
   * Whose rights an alias table's deliveries get: its file's owner; root
   * means default_privs. Postfix takes the owner when it opens the table;
   * here it is kept OWNER_TTL_MS (one stat a table, not one a message).
   */
  #tableOwner(spec: string): Promise<UserAttr | undefined> {
    const now = Date.now();
    const hit = this.#owners.get(spec);
    if (hit !== undefined && now - hit.at < OWNER_TTL_MS) return hit.owner;
    const owner = this.#findTableOwner(spec);
    const entry = { at: now, owner };
    this.#owners.set(spec, entry);
    owner.catch(() => {
      if (this.#owners.get(spec) === entry) this.#owners.delete(spec);
    });
    return owner;
  }

  async #findTableOwner(spec: string): Promise<UserAttr | undefined> {
    const p = splitDictSpec(spec);
    let uid = 0;
    if (p?.name.startsWith('/')) {
      const suffix = { hash: '.db', btree: '.db', lmdb: '.lmdb', cdb: '.cdb' }[p.type] ?? '';
      const st = await stat(p.name + suffix).catch(() => stat(p.name).catch(() => undefined));
      uid = st?.uid ?? 0;
    }
    if (uid !== 0) return (await lookupUid(uid)) ?? undefined;
    return (await lookupUser(this.s.defaultPrivs)) ?? undefined;
  }

  // --- destinations

  async #destination(st: RequestState, ctx: Ctx, d: Destination, a: Parts): Promise<void> {
    if (d.kind === 'include') return this.#include(st, ctx, d.path, a);
    if (d.kind === 'command') return this.#commandDest(st, ctx, d.command, a);
    if (d.kind === 'file') return this.#file(st, ctx, d.path);
    return this.#address(st, ctx, d.address, d.bypass);
  }

  /**
   * Whether an address from an alias goes to this very transport (then it
   * is delivered here, as Postfix's local does) or must be re-submitted:
   * trivial-rewrite's resolver, in this process, decides as qmgr would.
   */
  async #resolvesHere(st: RequestState, sender: string, address: string): Promise<boolean | 'retry'> {
    this.#resolver ??= new Resolver(this.s.cfg);
    try {
      const r = await this.#resolver.resolve(sender, address);
      if ((r.flags & RESOLVE_FLAG_FAIL) !== 0) return 'retry';
      // A malformed address is cleanup's to judge: it is re-submitted.
      if ((r.flags & RESOLVE_FLAG_ERROR) !== 0) return false;
      return (r.flags & RESOLVE_CLASS_LOCAL) !== 0 && r.transport === st.job.ctx.service;
    } catch (e) {
      msg.warn(`resolve ${address}: ${e instanceof Error ? e.message : String(e)}`);
      return 'retry';
    }
  }

  async #address(st: RequestState, ctx: Ctx, given: string, bypass: boolean): Promise<void> {
    const address = bypass ? given : this.#propagate(given, ctx.unmatched);
    const at = address.lastIndexOf('@');
    const full = at < 0 ? `${address}@${this.s.myorigin}` : address;
    const name = (at < 0 ? address : address.slice(0, at)).toLowerCase();
    const domain = full.slice(full.lastIndexOf('@') + 1);
    const local = await this.#resolvesHere(st, ctx.sender, full);
    if (local === 'retry') {
      this.#sub(st, ctx, 'defer', '4.3.0', 'address resolver failure');
      return;
    }
    const givenAt = given.lastIndexOf('@');
    const givenName = (givenAt < 0 ? given : given.slice(0, givenAt)).toLowerCase();
    const self = local && (givenName === ctx.aliasName || givenName === ctx.forwardUser);
    if (bypass || self) {
      // The alias (or .forward) names its own user: deliver to that user.
      const key = `self ${givenName}@${domain.toLowerCase()}`;
      await this.#once(st, ctx, key, () => this.#deliverSelf(st, ctx, givenName, domain));
      return;
    }
    if (ctx.expType === 'forward' || ctx.expType === 'include' || ctx.ownerForward || !local) {
      const orig = ctx.ownerForward ? undefined : (ctx.rcpt.orig ?? ctx.rcpt.address);
      if (st.verify) {
        // A probe is not re-submitted: the new address is reported (as Postfix does).
        const rcpt = { ...ctx.rcpt, address: full, orig: ctx.rcpt.orig ?? ctx.rcpt.address };
        st.subs.push({ rcpt, kind: 'sent', status: '2.0.0', reason: `forwards to ${full}` });
        return;
      }
      st.forwarder.add(
        ctx.rcpt,
        ctx.sender,
        {
          address: full,
          ...(orig === undefined ? {} : { orig }),
          ...(ctx.top.dsn_orcpt === undefined ? {} : { dsnOrcpt: ctx.top.dsn_orcpt }),
          ...(ctx.top.dsn_notify === undefined ? {} : { dsnNotify: ctx.top.dsn_notify }),
        },
        this.s.prependDelivered.has('forward'),
      );
      return;
    }
    if (ctx.chain.includes(name) || ctx.chain.includes(splitExtension(name, this.s.delimiter).user)) {
      const alias = ctx.aliasName ?? name;
      msg.warn(`alias database loop for ${alias}`);
      this.#sub(st, ctx, 'bounce', '5.4.6', `alias database loop for ${alias}`);
      return;
    }
    const key = `rcpt ${full.toLowerCase()}`;
    await this.#once(st, ctx, key, () =>
      this.#recipient(st, {
        top: ctx.top,
        rcpt: { ...ctx.rcpt, address: full, orig: ctx.rcpt.orig ?? ctx.rcpt.address },
        sender: ctx.sender,
        level: ctx.level + 1,
        chain: ctx.chain,
        ownerForward: false,
      }),
    );
  }

  /** The alias or .forward names its own user: that user's .forward or mailbox, no alias. */
  async #deliverSelf(st: RequestState, ctx: Ctx, name: string, domain: string): Promise<void> {
    const next: Ctx = {
      ...ctx,
      rcpt: { ...ctx.rcpt, address: `${name}@${domain}`, orig: ctx.rcpt.orig ?? ctx.rcpt.address },
      level: ctx.level + 1,
      expType: undefined,
      forwardUser: name,
    };
    if (st.deliveredTo.has(next.rcpt.address.toLowerCase())) {
      this.#sub(st, next, 'bounce', '5.4.6', `mail forwarding loop for ${next.rcpt.address}`);
      return;
    }
    await this.#switch(st, next, parts(next.rcpt.address, this.s.delimiter), true);
  }

  /** user@domain -> user+ext@domain, unless the local part has an extension already. */
  #propagate(address: string, ext: string | undefined): string {
    if (ext === undefined || this.s.delimiter === '') return address;
    const at = address.lastIndexOf('@');
    const local = at < 0 ? address : address.slice(0, at);
    if ([...this.s.delimiter].some((c) => local.includes(c))) return address;
    return `${local}${ext}${at < 0 ? '' : address.slice(at)}`;
  }

  /** A broken :include: is the administrator's problem: a warning with the details, the sender sees 5.3.5. */
  #configError(st: RequestState, ctx: Ctx, warning: string): void {
    msg.warn(warning);
    this.#sub(st, ctx, 'bounce', '5.3.5', 'mail system configuration error');
  }

  async #include(st: RequestState, ctx: Ctx, path: string, a: Parts): Promise<void> {
    if (!path.startsWith('/')) {
      this.#configError(st, ctx, `:include:${path} uses a relative path`);
      return;
    }
    await this.#once(st, ctx, `include ${path}`, () => this.#includeFile(st, ctx, path, a));
  }

  async #includeFile(st: RequestState, ctx: Ctx, path: string, a: Parts): Promise<void> {
    let r: Awaited<ReturnType<typeof runAs>>;
    try {
      r = await runAs(ctx.privs, { op: 'read', path, limit: 1 << 20 });
    } catch (e) {
      if (e instanceof MailboxError && e.permanent)
        this.#configError(st, ctx, `:include: file ${path} is not a regular file`);
      else this.#fail(st, ctx, e, `cannot open include file ${path}`);
      return;
    }
    if (r.missing) {
      this.#configError(st, ctx, `unable to lookup :include: file ${path}: No such file or directory`);
      return;
    }
    if (((r.mode ?? 0) & 0o002) !== 0) {
      this.#configError(st, ctx, `:include: file ${path} is world writable`);
      return;
    }
    const owner = r.uid !== undefined && r.uid !== 0 ? await lookupUid(r.uid) : null;
    const next: Ctx = {
      ...ctx,
      expType: 'include',
      unmatched: this.s.propagate.has('include') ? ctx.unmatched : undefined,
      ...(owner ? { privs: owner } : {}),
    };
    for (const d of parseFile(r.text ?? '', this.s.lineLimit)) await this.#destination(st, next, d, a);
  }

  #fail(st: RequestState, ctx: Ctx, e: unknown, what: string): void {
    if (e instanceof MailboxError) this.#sub(st, ctx, e.permanent ? 'bounce' : 'defer', e.status, e.message);
    else this.#sub(st, ctx, 'defer', '4.3.0', `${what}: ${strerror(e)}`);
  }

  #headers(ctx: Ctx, kind: 'file' | 'command'): string {
    return deliveryHeaders({
      returnPath: ctx.sender,
      ...(this.s.originalRecipient ? { originalRecipient: ctx.rcpt.orig ?? ctx.rcpt.address } : {}),
      ...(this.s.prependDelivered.has(kind) ? { deliveredTo: ctx.rcpt.address } : {}),
    });
  }

  /** The uid/gid to switch to for a delivery with `u`'s rights (none when not root). */
  async #privs(u: UserAttr | undefined, forCommand: boolean): Promise<UserAttr | undefined> {
    if (!isRoot()) return undefined;
    if (u === undefined || (forCommand && u.uid === 0))
      return (await lookupUser(this.s.defaultPrivs)) ?? undefined;
    return u;
  }

  async #file(st: RequestState, ctx: Ctx, path: string): Promise<void> {
    if (ctx.expType !== undefined && !this.s.allowFiles.has(ctx.expType)) {
      this.#sub(st, ctx, 'bounce', '5.7.1', 'mail to file is restricted');
      return;
    }
    await this.#once(st, ctx, `file ${path}`, () => this.#fileWrite(st, ctx, path));
  }

  async #fileWrite(st: RequestState, ctx: Ctx, path: string): Promise<void> {
    // Postfix says "file" for a maildir named in an alias too.
    if (st.verify) return this.#sub(st, ctx, 'sent', '2.0.0', `delivers to file: ${path}`);
    const privs = await this.#privs(ctx.privs, false);
    const prefix = this.#headers(ctx, 'file');
    const { lock, retry: lockRetry, sizeLimit } = this.s.mailbox;
    try {
      if (path.endsWith('/')) {
        await runAs(privs, { op: 'maildir', dir: path, prefix, sizeLimit }, st.content());
        this.#sub(st, ctx, 'sent', '2.0.0', 'delivered to maildir');
      } else {
        await runAs(
          privs,
          { op: 'mbox', path, sender: ctx.sender, prefix, lock, retry: lockRetry, sizeLimit },
          st.content(),
        );
        this.#sub(st, ctx, 'sent', '2.0.0', `delivered to file: ${path}`);
      }
    } catch (e) {
      const me = e instanceof MailboxError ? e : new MailboxError('4.3.0', strerror(e));
      if (path.endsWith('/')) maildirAccessWarning(me, privs);
      const text = path.endsWith('/')
        ? `maildir delivery failed: ${me.message}`
        : `cannot append message to file ${path}: ${me.message}`;
      this.#sub(st, ctx, me.permanent ? 'bounce' : 'defer', me.status, text);
    }
  }

  #attrs(ctx: Ctx, a: Parts, u: UserAttr | undefined): LocalAttrs {
    return {
      user: a.user,
      ...(u ? { home: u.home, shell: u.shell } : {}),
      recipient: ctx.rcpt.address,
      ...(a.extension === undefined ? {} : { extension: a.extension }),
      domain: a.domain,
      local: a.local,
      // As Postfix: the delimiter the address used, so "$home/.forward${recipient_delimiter}${extension}"
      // is plain ".forward" without an extension and right with any of several delimiters.
      ...(a.delim === undefined ? {} : { recipient_delimiter: a.delim }),
    };
  }

  async #commandDest(st: RequestState, ctx: Ctx, command: string, a: Parts): Promise<void> {
    if (ctx.expType !== undefined && !this.s.allowCommands.has(ctx.expType)) {
      this.#sub(st, ctx, 'bounce', '5.7.1', 'mail to command is restricted');
      return;
    }
    await this.#once(st, ctx, `command ${command}`, () => this.#runCommand(st, ctx, command, a, ctx.privs));
  }

  async #runCommand(
    st: RequestState,
    ctx: Ctx,
    command: string,
    a: Parts,
    u: UserAttr | undefined,
  ): Promise<void> {
    if (st.verify) return this.#sub(st, ctx, 'sent', '2.0.0', `delivers to command: ${command}`);
    const attrs = this.#attrs(ctx, a, u);
    let cwd = this.s.queueDirectory;
    if (this.s.execDir !== '') {
      const dir = localExpand(this.s.cfg, this.s.execDir, attrs, this.s.execDirFilter);
      if (dir === undefined) {
        this.#sub(st, ctx, 'defer', '4.3.5', 'bad command_execution_directory syntax');
        return;
      }
      if (dir !== '') cwd = dir;
    }
    const r = await deliverCommand({
      command,
      shell: this.s.commandShell,
      env: this.#environment(st, ctx, a, u),
      cwd,
      privs: await this.#privs(u, true),
      timeLimitSec: this.s.commandTimeLimit,
      sender: ctx.sender,
      prefix: this.#headers(ctx, 'command'),
      content: st.content(),
    });
    this.#sub(st, ctx, r.kind, r.status, r.reason);
  }

  #environment(st: RequestState, ctx: Ctx, a: Parts, u: UserAttr | undefined): Record<string, string> {
    const env: Record<string, string> = { PATH: '/usr/bin:/bin' };
    for (const name of this.s.exportEnvironment) {
      const v = process.env[name];
      if (v !== undefined) env[name] = v;
    }
    const f = (v: string) => filterChars(v, this.s.commandFilter);
    const set = (k: string, v: string | undefined) => {
      if (v !== undefined) env[k] = f(v);
    };
    set('HOME', u?.home);
    set('SHELL', u?.shell);
    set('USER', a.user);
    set('LOGNAME', a.user);
    set('EXTENSION', a.extension);
    set('DOMAIN', a.domain);
    set('LOCAL', a.local);
    set('RECIPIENT', ctx.rcpt.address);
    set('SENDER', ctx.sender);
    set('ORIGINAL_RECIPIENT', ctx.top.orig ?? ctx.top.address);
    const at = st.job.req.attributes;
    set('CLIENT_HOSTNAME', at.client_name);
    set('CLIENT_ADDRESS', at.client_address);
    set('CLIENT_HELO', at.helo_name);
    set('CLIENT_PROTOCOL', at.protocol_name);
    set('SASL_METHOD', at.sasl_method);
    set('SASL_USERNAME', at.sasl_username);
    set('SASL_SENDER', at.sasl_sender);
    return env;
  }

  // --- .forward

  async #dotForward(st: RequestState, ctx: Ctx, a: Parts, user: UserAttr): Promise<boolean> {
    const attrs = this.#attrs(ctx, a, user);
    for (const item of this.s.forwardPath.split(/[\s,]+/u).filter((x) => x !== '')) {
      const path = localExpand(this.s.cfg, item, attrs, this.s.forwardFilter);
      if (path === undefined || path === '') continue;
      let r: Awaited<ReturnType<typeof runAs>>;
      try {
        r = await runAs(await this.#privs(user, false), { op: 'read', path, limit: 1 << 20 });
      } catch (e) {
        this.#fail(st, ctx, e, `cannot open file ${path}`);
        return true;
      }
      if (r.missing) continue;
      if (r.uid !== undefined && r.uid !== user.uid && r.uid !== 0) {
        msg.warn(`file ${path} has bad owner uid ${r.uid}`);
        continue;
      }
      const dests = parseFile(r.text ?? '', this.s.lineLimit);
      if (dests.length === 0) return false;
      // A .forward file name that does not change with the extension did not match it.
      const generic =
        localExpand(
          this.s.cfg,
          item,
          { ...attrs, extension: undefined, recipient_delimiter: undefined },
          this.s.forwardFilter,
        ) === path;
      const next: Ctx = {
        ...ctx,
        expType: 'forward',
        forwardUser: user.name,
        aliasName: undefined,
        privs: user,
        unmatched: generic && this.s.propagate.has('forward') ? unmatched(a) : undefined,
      };
      for (const d of dests) await this.#destination(st, next, d, a);
      return true;
    }
    return false;
  }

  // --- mailbox

  /** A transport setting that names this very service would hand mail to itself forever. */
  #isSelf(st: RequestState, channel: string): boolean {
    const transport = channel.split(':')[0];
    if (transport !== st.job.ctx.service) return false;
    msg.warn(`${transport}: transport names this delivery agent itself; ignored`);
    return true;
  }

  async #pass(st: RequestState, ctx: Ctx, channel: string): Promise<void> {
    const colon = channel.indexOf(':');
    const transport = colon < 0 ? channel : channel.slice(0, colon);
    const nexthop = (colon < 0 ? '' : channel.slice(colon + 1)) || st.job.req.nexthop;
    const path = servicePath(this.s.cfg, 'private', transport);
    let c = this.#clients.get(path);
    if (c === undefined) {
      c = new RpcClient(path, {
        timeoutMs: this.s.cfg.time('ipc_timeout', 's') * 1000 + this.s.commandTimeLimit * 1000,
      });
      this.#clients.set(path, c);
    }
    try {
      const reply = await c.call({ ...st.job.req, transport, nexthop, recipients: [ctx.top] });
      const res = (reply.results as { offset: number; outcome: RecipientOutcome }[] | undefined)?.find(
        (x) => x.offset === ctx.top.offset,
      );
      if (reply.status !== 0 || res === undefined) throw new Error('no outcome');
      st.subs.push({ rcpt: ctx.top, kind: 'passed', status: '', reason: '', outcome: res.outcome });
    } catch {
      this.#sub(st, ctx, 'defer', '4.3.0', 'mail transport unavailable');
    }
  }

  async #mailbox(st: RequestState, ctx: Ctx, a: Parts, user: UserAttr | null): Promise<boolean> {
    const mt = await this.#t.find('mailbox_transport_maps', this.s.mailboxTransportMaps, a.user);
    if (mt === 'retry') {
      this.#sub(st, ctx, 'defer', '4.3.0', 'mailbox_transport_maps lookup failure');
      return true;
    }
    const transport = mt ?? this.s.mailboxTransport;
    if (transport !== '' && !this.#isSelf(st, transport)) {
      await this.#pass(st, ctx, transport);
      return true;
    }
    if (user === null) return false;
    await this.#once(st, ctx, `mailbox ${user.name}`, () => this.#userMailbox(st, ctx, a, user));
    return true;
  }

  async #userMailbox(st: RequestState, ctx: Ctx, a: Parts, user: UserAttr): Promise<void> {
    if (this.s.requireHome) {
      try {
        await stat(user.home);
      } catch (e) {
        this.#sub(st, ctx, 'defer', '4.3.0', `cannot access home directory ${user.home}: ${strerror(e)}`);
        return;
      }
    }
    const mc = await this.#t.find('mailbox_command_maps', this.s.mailboxCommandMaps, user.name);
    if (mc === 'retry') {
      this.#sub(st, ctx, 'defer', '4.3.0', 'mailbox_command_maps lookup failure');
      return;
    }
    const cmdText = mc ?? this.s.mailboxCommand;
    if (cmdText !== '') {
      const cmd = localExpand(this.s.cfg, cmdText, this.#attrs(ctx, a, user), this.s.commandFilter);
      if (cmd === undefined) {
        this.#sub(st, ctx, 'defer', '4.3.5', 'bad mailbox_command syntax');
        return;
      }
      await this.#runCommand(st, { ...ctx, expType: undefined }, cmd, a, user);
      return;
    }
    await this.#mailboxFile(st, ctx, user);
    return;
  }

  async #mailboxFile(st: RequestState, ctx: Ctx, user: UserAttr): Promise<void> {
    const spool = this.s.homeMailbox === '';
    const path = spool
      ? this.s.mailSpool.endsWith('/')
        ? `${this.s.mailSpool}${user.name}/`
        : `${this.s.mailSpool}/${user.name}`
      : `${user.home}/${this.s.homeMailbox}`;
    const maildir = path.endsWith('/');
    if (st.verify)
      return this.#sub(st, ctx, 'sent', '2.0.0', maildir ? 'delivers to maildir' : 'delivers to mailbox');
    const privs = isRoot() && user.uid !== 0 ? user : undefined;
    const prefix = this.#headers(ctx, 'file');
    const { lock, retry: lockRetry, sizeLimit } = this.s.mailbox;
    try {
      if (maildir) {
        await runAs(privs, { op: 'maildir', dir: path, prefix, sizeLimit }, st.content());
        this.#sub(st, ctx, 'sent', '2.0.0', 'delivered to maildir');
        return;
      }
      // A spool directory the user may not write to: the mailbox is made
      // here (as root) for the user, as Postfix does, then written as the user.
      if (spool && privs) await createForUser(path, privs);
      if (privs && !(await this.#ownedBy(path, privs))) {
        msg.warn('specify "strict_mailbox_ownership = no" to ignore mailbox ownership mismatch');
        this.#sub(st, ctx, 'defer', '4.2.0', `destination ${path} is not owned by recipient`);
        return;
      }
      // The dot lock in the spool directory is made by root, as Postfix
      // does: the user may not create files there (/var/mail is 2775 root:mail).
      const unlock =
        spool && privs && lock.includes('dotlock') ? await spoolDotLock(path, lock, lockRetry) : undefined;
      let done: Awaited<ReturnType<typeof runAs>>;
      try {
        done = await runAs(
          privs,
          {
            op: 'mbox',
            path,
            sender: ctx.sender,
            prefix,
            lock: unlock ? lock.filter((m) => m !== 'dotlock') : lock,
            retry: lockRetry,
            sizeLimit,
          },
          st.content(),
        );
      } finally {
        await unlock?.();
      }
      if (this.s.biff && done.offset !== undefined) biffNotify(user.name, done.offset);
      this.#sub(st, ctx, 'sent', '2.0.0', 'delivered to mailbox');
    } catch (e) {
      const me = e instanceof MailboxError ? e : new MailboxError('4.3.0', strerror(e));
      if (maildir) maildirAccessWarning(me, privs);
      const text = maildir
        ? `maildir delivery failed: ${me.message}`
        : `cannot update mailbox ${path} for user ${user.name}. ${me.message}`;
      this.#sub(st, ctx, me.permanent ? 'bounce' : 'defer', me.status, text);
    }
  }

  /** strict_mailbox_ownership: an existing mailbox file must belong to the recipient. */
  async #ownedBy(path: string, u: UserAttr): Promise<boolean> {
    if (!this.s.strictOwnership) return true;
    const st = await lstat(path).catch(() => undefined);
    return st === undefined || !st.isFile() || st.uid === u.uid;
  }

  async #unknown(st: RequestState, ctx: Ctx, a: Parts): Promise<void> {
    const fb = await this.#t.find('fallback_transport_maps', this.s.fallbackTransportMaps, a.user);
    if (fb === 'retry') {
      this.#sub(st, ctx, 'defer', '4.3.0', 'fallback_transport_maps lookup failure');
      return;
    }
    const transport = fb ?? this.s.fallbackTransport;
    if (transport !== '' && !this.#isSelf(st, transport)) {
      await this.#pass(st, ctx, transport);
      return;
    }
    // A relay address that is itself unknown must not be relayed again.
    if (this.s.luserRelay !== '' && !ctx.chain.includes('\0luser_relay')) {
      const relay = localExpand(
        this.s.cfg,
        this.s.luserRelay,
        this.#attrs(ctx, a, undefined),
        this.s.forwardFilter,
      );
      if (relay !== undefined && relay !== '') {
        await this.#address(
          st,
          { ...ctx, expType: undefined, aliasName: undefined, chain: [...ctx.chain, '\0luser_relay'] },
          relay,
          false,
        );
        return;
      }
    }
    this.#sub(st, ctx, 'bounce', '5.1.1', `unknown user: "${a.local}"`);
  }

  close(): void {
    for (const c of this.#clients.values()) c.close();
    void this.#t.close();
  }
}

/** A Maildir the recipient's rights cannot reach: Postfix 3.7 says so, with a hint, before the bounce. */
function maildirAccessWarning(e: MailboxError, privs: UserAttr | undefined): void {
  if (e.code !== 'EACCES') return;
  const uid = privs?.uid ?? process.getuid?.() ?? 0;
  const gid = privs?.gid ?? process.getgid?.() ?? 0;
  msg.warn(`maildir access problem for UID/GID=${uid}/${gid}: ${e.message}`);
  msg.warn('perhaps you need to create the maildirs in advance');
}
