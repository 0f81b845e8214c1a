/*
 * braces - the "{ ... }" syntax of table names such as inline:{...},
 * unionmap:{...}, pipemap:{...}, randmap:{...}, static:{...} and cidr:{...}
 *
 * Two primitives, after Postfix's extpar() and mystrtokq():
 *   unbrace()  "{ text }" -> "text": braces must balance, nothing may follow
 *              the closing brace, whitespace inside the braces is dropped;
 *   listItems() split a list at commas and whitespace, keeping a "{...}"
 *              group (which may contain commas and spaces) in one item.
 * Errors are returned as Postfix's words so that each table type can wrap
 * them in its own message.
 */

export type Unbraced =
  | { readonly ok: true; readonly inner: string }
  | { readonly ok: false; readonly error: string };

/** ASCII whitespace only, as C's isspace() in the C locale. */
const SPACE = /[ \t\n\r\v\f]/;
const trimSpace = (s: string): string => s.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '');

/** Index just past the "}" that balances the "{" at `from`, or -1. */
function balance(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return -1;
}

/** "{ text }" -> "text"; the whole string must be one balanced group. */
export function unbrace(text: string): Unbraced {
  if (text[0] !== '{') return { ok: false, error: `no '{' at start of text in "${text}"` };
  const end = balance(text, 0);
  if (end < 0) return { ok: false, error: `missing '}' in "${text}"` };
  if (end !== text.length) return { ok: false, error: `syntax error after '}' in "${text}"` };
  return { ok: true, inner: trimSpace(text.slice(1, end - 1)) };
}

/**
 * Items of a comma/whitespace separated list. A "{" inside an item starts a
 * group that runs to its balancing "}" (or to the end of the text if it
 * never balances: the caller's parse of that item reports the error).
 */
export function listItems(text: string): string[] {
  const items: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && (text[i] === ',' || SPACE.test(text[i]!))) i++;
    if (i >= text.length) break;
    const start = i;
    while (i < text.length && text[i] !== ',' && !SPACE.test(text[i]!)) {
      if (text[i] === '{') {
        const end = balance(text, i);
        i = end < 0 ? text.length : end;
      } else i++;
    }
    items.push(text.slice(start, i));
  }
  return items;
}

/**
 * The inner text of a "type:{...}" name whose braces are mandatory, or null
 * when the name is not one balanced, non-empty group (Postfix then says
 * 'bad syntax: "type:name"; need "type:{...}"').
 */
export function bracedList(name: string): string[] | null {
  const r = unbrace(name);
  if (!r.ok || r.inner === '') return null;
  return listItems(r.inner);
}
