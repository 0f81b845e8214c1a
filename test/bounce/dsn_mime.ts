/*
 * Test helper: a MIME message parsed by Python's email package
 * (test/bounce/dsn_parse.py), as a tree of parts.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../harness/index.js';

export type Headers = [string, string][];
export interface Part {
  type: string;
  params: Record<string, string>;
  headers: Headers;
  defects: string[];
  parts?: Part[];
  blocks?: Headers[];
  message?: Part;
  text?: string;
}

export function parse(text: string | Buffer): Part {
  const out = execFileSync('python3', [join(ROOT, 'test/bounce/dsn_parse.py')], {
    input: typeof text === 'string' ? Buffer.from(text) : text,
  });
  return JSON.parse(out.toString()) as Part;
}

export const field = (h: Headers, name: string): string | undefined =>
  h.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
