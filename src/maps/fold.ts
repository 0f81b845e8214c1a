/*
 * fold - case folding of lookup keys, the one implementation for Postroom
 *
 * Postfix lowercases keys of fixed-string tables (hash, inline, environ...)
 * before storing and before looking them up, so that "User@Example.COM"
 * finds "user@example.com". With smtputf8_enable = no that is ASCII-only
 * lowercasing; with it on, Postfix uses Unicode full case folding (ICU
 * u_strFoldCase): "Straße" and "STRASSE" fold to the same "strasse".
 * casefold() reproduces that (checked code point by code point against
 * Postfix 3.7, see test/maps/other/fold.test.ts). Pattern tables (cidr,
 * regexp, pcre, tcp, socketmap) do not fold: Postfix leaves it to the
 * pattern or to the server.
 */
import type { DictFlags } from './dict.js';

const ASCII = /^[\x00-\x7f]*$/;

/** Lowercase A-Z only: what Postfix does without SMTPUTF8. */
export function foldAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** One code point folded as ICU's default full case folding does. */
function foldChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  // Dotless i has no folding of its own (only Turkish tailoring would map it).
  if (cp === 0x131) return ch;
  // Capital sharp s folds like "ß" does.
  if (cp === 0x1e9e) return 'ss';
  // Cherokee folds to the UPPERCASE letters, the one script that goes that way.
  if (cp >= 0x13a0 && cp <= 0x13f5) return ch;
  if (cp >= 0x13f8 && cp <= 0x13fd) return String.fromCodePoint(cp - 8);
  if (cp >= 0xab70 && cp <= 0xabbf) return String.fromCodePoint(cp - 0xab70 + 0x13a0);
  // Upper then lower turns "ß" into "ss", "ﬁ" into "fi", "ς" into "σ": full folding.
  return ch.toUpperCase().toLowerCase();
}

/** Case-fold text as Postfix does: Unicode full folding when utf8, else ASCII. */
export function casefold(text: string, utf8: boolean): string {
  if (ASCII.test(text)) return text.toLowerCase();
  if (!utf8) return foldAscii(text);
  let out = '';
  for (const ch of text) out += ch.length === 1 && ch.charCodeAt(0) < 0x80 ? ch.toLowerCase() : foldChar(ch);
  return out;
}

/** The key a fixed-string table stores or looks up under these flags. */
export function foldKey(key: string, flags: Pick<DictFlags, 'fold' | 'utf8'>): string {
  return flags.fold ? casefold(key, flags.utf8) : key;
}
