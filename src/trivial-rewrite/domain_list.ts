/*
 * domain_list - the domain lists the resolver consults
 *
 * Two kinds, as in Postfix (behaviour checked against its trivial-rewrite):
 *   string lists (mydestination, virtual_alias_domains,
 *     virtual_mailbox_domains): a pattern matches the domain itself only,
 *     a table only by the whole domain as key;
 *   domain lists (relay_domains): with the parameter listed in
 *     parent_domain_matches_subdomains, "name" also matches subdomains
 *     and a table is also asked the parent domains; otherwise ".name"
 *     matches subdomains and tables are asked ".parent" keys.
 * Patterns are separated by commas or whitespace and tried in order; the
 * first that matches decides, "!pattern" deciding "no"; "/file" stands
 * for the patterns in that file; "type:table" is a lookup table (pattern
 * tables such as regexp are asked the whole domain only).
 * A table that cannot answer makes the whole answer "retry": a later
 * pattern must not decide for one that could not be checked. A table that
 * cannot be opened answers retry too (the admin sees the warning), so
 * mail waits instead of going to the wrong place.
 */
import { readFileSync } from 'node:fs';
import { msg } from '../global/msg.js';
import { domainKeys, isPatternDict, parentMatchesSubdomains } from '../maps/access_search.js';
import { listItems } from '../maps/braces.js';
import { type Dict, DictOpenError, READ_FLAGS } from '../maps/dict.js';
import { openDict, splitDictSpec } from '../maps/index.js';
import { strerror } from '../util/strerror.js';

export type ListAnswer = 'match' | 'nomatch' | 'retry';

type Pattern =
  | { readonly negate: boolean; readonly kind: 'name'; readonly name: string }
  | { readonly negate: boolean; readonly kind: 'table'; readonly spec: string };

export class DomainList {
  readonly #patterns: readonly Pattern[];
  readonly #parentMatches: boolean;
  readonly #tables = new Map<string, Promise<Dict | null>>();

  readonly #domainStyle: boolean;

  /**
   * @param param the parameter name, for parent_domain_matches_subdomains and messages
   * @param value its expanded value
   * @param parentSetting the value of parent_domain_matches_subdomains
   * @param kind 'string' for exact matches only, 'domain' for subdomain matching
   */
  constructor(
    readonly param: string,
    value: string,
    parentSetting: string,
    kind: 'string' | 'domain',
  ) {
    this.#domainStyle = kind === 'domain';
    this.#parentMatches = this.#domainStyle && parentMatchesSubdomains(parentSetting, param);
    this.#patterns = parsePatterns(value, param);
  }

  /** No patterns at all: nothing can match (cheap check for callers). */
  get empty(): boolean {
    return this.#patterns.length === 0;
  }

  async match(domain: string): Promise<ListAnswer> {
    const d = domain.toLowerCase();
    for (const p of this.#patterns) {
      const hit = p.kind === 'name' ? this.#nameMatch(p.name, d) : await this.#tableMatch(p.spec, d);
      if (hit === 'retry') return 'retry';
      if (hit) return p.negate ? 'nomatch' : 'match';
    }
    return 'nomatch';
  }

  #nameMatch(pattern: string, d: string): boolean {
    if (d === pattern) return true;
    if (!this.#domainStyle) return false;
    if (pattern.startsWith('.')) return !this.#parentMatches && d.endsWith(pattern);
    return this.#parentMatches && d.endsWith(`.${pattern}`);
  }

  async #tableMatch(spec: string, d: string): Promise<boolean | 'retry'> {
    const dict = await this.#open(spec);
    if (dict === null) return 'retry';
    const keys =
      isPatternDict(dict) || !this.#domainStyle
        ? [d]
        : domainKeys(d, this.#parentMatches, true).map((k) => k.key);
    for (const key of keys) {
      const r = await dict.lookup(key);
      if (r.kind === 'found') return true;
      if (r.kind === 'retry') {
        msg.warn(`${this.param}: ${spec}: table lookup problem`);
        return 'retry';
      }
    }
    return false;
  }

  #open(spec: string): Promise<Dict | null> {
    let p = this.#tables.get(spec);
    if (p === undefined) {
      p = openDict(spec, { ...READ_FLAGS, title: this.param }).catch((e: unknown) => {
        if (!(e instanceof DictOpenError)) throw e;
        msg.warn(`${spec}: ${e.message}`);
        return null;
      });
      this.#tables.set(spec, p);
    }
    return p;
  }

  /** Close the tables this list opened. */
  async close(): Promise<void> {
    for (const p of this.#tables.values()) await (await p)?.close();
    this.#tables.clear();
  }
}

function parsePatterns(value: string, param: string, depth = 0): Pattern[] {
  const out: Pattern[] = [];
  for (let word of listItems(value)) {
    let negate = false;
    while (word.startsWith('!')) {
      negate = !negate;
      word = word.slice(1);
    }
    if (word.startsWith('/')) {
      if (depth > 10) continue;
      let text = '';
      try {
        text = readFileSync(word, 'utf8');
      } catch (e) {
        msg.fatal(`${param}: open ${word}: ${strerror(e as NodeJS.ErrnoException)}`);
      }
      const lines = text.split('\n').filter((l) => !/^\s*(#|$)/.test(l));
      const inner = parsePatterns(lines.join(' '), param, depth + 1);
      out.push(...inner.map((p) => (negate ? { ...p, negate: !p.negate } : p)));
    } else if (splitDictSpec(word) !== null && !word.startsWith('[')) {
      out.push({ negate, kind: 'table', spec: word });
    } else {
      out.push({ negate, kind: 'name', name: word.toLowerCase() });
    }
  }
  return out;
}
