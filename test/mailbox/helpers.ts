/*
 * Helpers for the mailbox tests: read mailboxes back with Python's mailbox
 * module (an independent, widely used reader) and split messages into
 * chunks at arbitrary places.
 */
import { spawnSync } from 'node:child_process';

export interface ParsedMessage {
  readonly from: string | null;
  readonly bytes: string;
}

/** Messages of an mbox file or Maildir as Python's mailbox module parses them (latin-1 text). */
export function pythonRead(kind: 'mbox' | 'Maildir', path: string): ParsedMessage[] {
  const script = [
    'import json, mailbox, sys',
    `box = mailbox.${kind}(sys.argv[1], factory=None, create=False)`,
    'out = []',
    'for key in sorted(box.keys(), key=lambda k: str(k)):',
    '    raw = box.get_bytes(key)',
    `    frm = box.get_message(key).get_from() if ${kind === 'mbox' ? 'True' : 'False'} else None`,
    "    out.append({'from': frm, 'bytes': raw.decode('latin-1'), 'key': str(key)})",
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script, path], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python3 mailbox failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ParsedMessage[];
}

/** `data` cut at the given offsets, as a stream would deliver it. */
export function cut(data: Buffer, at: readonly number[]): Buffer[] {
  const points = [...new Set(at.map((n) => n % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  out.push(data.subarray(prev));
  return out;
}

/** The quoting Postfix applies, computed on the whole text at once. */
export function quoteWhole(text: string): string {
  return text.replace(/^From /gmu, '>From ');
}
