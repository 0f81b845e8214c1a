/*
 * dict - the one interface behind every "type:name" lookup table
 *
 * Everything in Postroom that looks something up (aliases, access maps,
 * rewriting, routing, header checks) goes through Dict. A lookup answers
 * found, notfound, or retry; retry means the table could not answer now
 * (a server down, a file being rebuilt) and the caller must defer, never
 * accept and never reject. Tables that can be changed (postmap -i/-d,
 * postalias) also implement update/delete/sequence.
 */

export type Lookup =
  | { readonly kind: 'found'; readonly value: string }
  | { readonly kind: 'notfound' }
  | { readonly kind: 'retry'; readonly reason: string };

export const NOTFOUND: Lookup = Object.freeze({ kind: 'notfound' });
export const found = (value: string): Lookup => ({ kind: 'found', value });
export const retry = (reason: string): Lookup => ({ kind: 'retry', reason });

/** What to do with a key that is already in the table (postmap/postalias -r, -w). */
export type DupPolicy = 'warn' | 'ignore' | 'replace';

export interface DictFlags {
  /** Lowercase keys on update and lookup (postmap default; -f turns it off). Postfix DICT_FLAG_FOLD_*. */
  readonly fold: boolean;
  /** Duplicate keys on update: warn and keep the first (default), ignore silently, or replace. */
  readonly dup: DupPolicy;
  /** Open for writing: create/truncate (postmap without -i) vs. open existing (-i, -d). */
  readonly mode: 'read' | 'create' | 'update';
  /** postmap -N / -n: include (or not) a terminating null byte in keys and values. Postroom stores none. */
  readonly tryNull?: boolean;
  /** smtputf8_enable: keys are UTF-8, case folding is Unicode-aware. */
  readonly utf8: boolean;
  /** Map is used for header/body checks or access maps: regexp tables search the whole text. */
  readonly purpose?: 'generic' | 'header' | 'body';
  /**
   * A found value that is the empty string (a table must answer not found
   * instead): both warn; 'show' (postmap, postalias) returns it as found,
   * 'retry' (the default, daemons) answers retry as Postfix's maps lookups do.
   */
  readonly emptyValue?: 'show' | 'retry';
  /** What daemons' warnings call the table list, e.g. "virtual_alias_maps" (default "type:name"). */
  readonly title?: string;
  /** The caller's main.cf (proxy: reads proxy_read_maps/proxy_write_maps); default: loaded from $MAIL_CONFIG. */
  readonly config?: { get(name: string): string };
}

export const READ_FLAGS: DictFlags = Object.freeze({ fold: true, dup: 'warn', mode: 'read', utf8: true });

export type UpdateResult = 'stored' | 'duplicate';

export interface Dict {
  /** Table type as in "type:name", e.g. "cidr". */
  readonly type: string;
  /** Table name, e.g. "/etc/postfix/access.cidr". */
  readonly name: string;
  /**
   * A pattern table (cidr, regexp, pcre, tcp, socketmap: Postfix's
   * DICT_FLAG_PATTERN) is asked only full keys, never the partial keys of a
   * search order (parent domains, user@, @domain). See access_search.ts.
   */
  readonly pattern?: boolean;
  lookup(key: string): Promise<Lookup>;
  /** Writable types only (hash, btree, lmdb, cdb during build, texthash never). */
  update?(key: string, value: string): Promise<UpdateResult>;
  delete?(key: string): Promise<'deleted' | 'notfound'>;
  /** postmap -s: every key and value, in the table's own order. */
  sequence?(): AsyncIterable<readonly [string, string]>;
  /** Commit writes (fsync where the type has a file) before a reader may see them. */
  sync?(): Promise<void>;
  close(): Promise<void>;
}

export type DictOpener = (name: string, flags: DictFlags) => Promise<Dict>;

/**
 * A table that cannot be opened: a configuration or file problem the admin
 * must see. Daemons turn it into a table that answers retry (Postfix's
 * "surrogate" dict) so mail is deferred, not lost; commands report it fatal.
 */
export class DictOpenError extends Error {
  constructor(
    readonly spec: string,
    message: string,
  ) {
    super(message);
  }
}
