/*
 * The system users the local tests deliver to (prtest1, prtest2; .ci/run
 * creates them). Missing: the test fails under CI=true, else it is skipped.
 */

import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export function testUser(t: TestContext, name: string): TestUser | null {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  const f = r.status === 0 ? r.stdout.trim().split(':') : [];
  if (f.length < 7) {
    if (process.env.CI === 'true') throw new Error(`test user ${name} is missing (.ci/run must create it)`);
    t.skip(`test user ${name} is missing (useradd -m ${name})`);
    return null;
  }
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] as string };
}
