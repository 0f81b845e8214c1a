import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { configDir, tempDir } from '../harness/index.js';

/** A configuration whose queue has an empty maildrop/, as sendmail and postdrop need. */
export function maildropSetup(t: TestContext, extra = ''): { conf: string; maildrop: string } {
  const q = join(tempDir(t, 'postroom-queue-'), 'q');
  const maildrop = join(q, 'maildrop');
  mkdirSync(maildrop, { recursive: true });
  return { conf: configDir(t, `queue_directory = ${q}\n${extra}`), maildrop };
}
