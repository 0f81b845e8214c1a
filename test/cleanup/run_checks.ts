/*
 * Drive cleanup's content checks as cleanup does: main.cf and table files
 * on disk, the message pushed line by line, the output and outcome kept.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadContentChecks, withoutHeaderBodyChecks } from '../../src/cleanup/checks_config.js';
import { ContentChecks, type ContentOutcome } from '../../src/cleanup/checks_engine.js';
import { loadMainConfig } from '../../src/global/config.js';
import { configDir } from '../harness/index.js';

export interface Checked {
  readonly outcome: ContentOutcome;
  /** Output records: "H <class> <text>", "END", "B <text>". */
  readonly output: string[];
  /** Warnings from opening tables. */
  readonly openWarnings: string[];
}

/**
 * mainCf may use "$DIR" for the config directory; tables maps file names
 * (written into that directory) to their text.
 */
export async function runChecks(
  t: TestContext,
  mainCf: string,
  tables: Record<string, string>,
  message: string,
  opts: { noHeaderBodyChecks?: boolean } = {},
): Promise<Checked> {
  const dir = configDir(t);
  writeFileSync(join(dir, 'main.cf'), mainCf.replaceAll('$DIR', dir));
  for (const [name, text] of Object.entries(tables)) writeFileSync(join(dir, name), text);
  const cfg = loadMainConfig({ configDir: dir });
  const openWarnings: string[] = [];
  const loaded = await loadContentChecks(cfg, (w) => openWarnings.push(w.replaceAll(dir, '$DIR')));
  const config = opts.noHeaderBodyChecks ? withoutHeaderBodyChecks(loaded) : loaded;
  const output: string[] = [];
  const checks = new ContentChecks(config, {
    header: (cls, text) => output.push(`H ${cls} ${text}`),
    primaryEnd: () => output.push('END'),
    body: (text) => output.push(`B ${text}`),
  });
  const lines = message.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) await checks.line(line);
  const outcome = await checks.end();
  return { outcome, output, openWarnings };
}
