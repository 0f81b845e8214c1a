/*
 * Golden cases for the "other" table types: postmap(1) runs recorded from
 * Postfix 3.7 by record_golden.ts, replayed against bin/postmap by
 * golden.test.ts. A case is self-contained: the files it needs (written
 * into a fresh directory whose path is spelled $DIR), main.cf, arguments,
 * stdin, and Postfix's stdout, stderr and exit status.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN } from '../../harness/index.js';

export interface GoldenCase {
  readonly name: string;
  readonly mainCf?: string;
  readonly files?: Readonly<Record<string, string>>;
  readonly args: readonly string[];
  readonly stdin?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
}

export type CaseSpec = Omit<GoldenCase, 'stdout' | 'stderr' | 'status'>;

export const goldenFile = (type: string): string => join(GOLDEN, 'maps', type, 'golden.json');

export function readGolden(type: string): GoldenCase[] {
  return JSON.parse(readFileSync(goldenFile(type), 'utf8')) as GoldenCase[];
}

export function writeGolden(type: string, cases: readonly object[]): void {
  mkdirSync(join(GOLDEN, 'maps', type), { recursive: true });
  writeFileSync(goldenFile(type), `${JSON.stringify(cases, null, 1)}\n`);
}

/** "$DIR" in a case's text stands for the directory its files live in. */
export const withDir = (text: string, dir: string): string => text.split('$DIR').join(dir);
export const withoutDir = (text: string, dir: string): string => text.split(dir).join('$DIR');

/** Write a case's files into dir (each file's text may mention $DIR). */
export function writeCaseFiles(c: Pick<GoldenCase, 'files'>, dir: string): void {
  for (const [file, text] of Object.entries(c.files ?? {}))
    writeFileSync(join(dir, file), withDir(text, dir));
}
