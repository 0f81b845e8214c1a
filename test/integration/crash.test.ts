/*
 * Crash safety: a bounded load of messages, each carrying a unique token,
 * is submitted while a seeded loop kills daemons (cleanup, qmgr, local,
 * pickup, and master itself) with SIGKILL at random moments; when master
 * died the instance is started again. Then the system drains and every
 * acknowledged message must be in the recipient's Maildir at least once.
 * Duplicates are allowed (at-least-once), counted and reported.
 *
 * Acknowledged means: sendmail exited 0 (its maildrop file is synced), or
 * cleanup answered status 0 on the cleanup stream (the queue file is
 * committed). CRASH_SEED and CRASH_MESSAGES change the run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLEANUP_FLAG, CleanupClient } from '../../src/global/cleanup_client.js';
import { loadMainConfig } from '../../src/global/config.js';
import { BIN, groupMembers, type Instance, sleep, startInstance } from '../harness/instance.js';

const SEED = Number(process.env.CRASH_SEED ?? 20261125);
const MESSAGES = Number(process.env.CRASH_MESSAGES ?? 200);
const MAX_KILLS = 24;
// The load goes on past MESSAGES until this many kills hit it (a fast
// machine submits 200 messages in about a second), up to MESSAGES_CAP.
const MIN_KILLS = 8;
const MESSAGES_CAP = MESSAGES * 5;
const SUBMIT_TIMEOUT = 10_000;
const VICTIMS = ['cleanup', 'qmgr', 'local', 'pickup', 'cleanup', 'qmgr', 'local', 'master'] as const;

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** sendmail's failures, for the test's diagnostics: sendmail needs no daemon, so it should not fail. */
const sendmailErrors: string[] = [];

function sendmail(inst: Instance, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = spawn(BIN('sendmail'), ['-f', 'load@example.org', 'prtest1'], {
      env: { ...process.env, MAIL_CONFIG: inst.etc },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    c.stderr.on('data', (b: Buffer) => (stderr += b));
    // A submission that hangs counts as not acknowledged.
    const timer = setTimeout(() => c.kill('SIGKILL'), SUBMIT_TIMEOUT);
    c.on('error', () => resolve(false));
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) sendmailErrors.push(`exit ${code ?? signal}: ${stderr.trim()}`);
      resolve(code === 0);
    });
    c.stdin.on('error', () => {});
    c.stdin.end(`Subject: ${token}\n\nbody ${token}\n`);
  });
}

function viaCleanup(inst: Instance, token: string): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), SUBMIT_TIMEOUT);
  });
  return Promise.race([late, cleanupStream(inst, token)]).finally(() => clearTimeout(timer));
}

async function cleanupStream(inst: Instance, token: string): Promise<boolean> {
  try {
    const cfg = loadMainConfig({ configDir: inst.etc });
    const c = await CleanupClient.open(cfg, CLEANUP_FLAG.MASK_EXTERNAL);
    const now = Date.now();
    await c.envelope({
      arrival: { sec: Math.floor(now / 1000), usec: (now % 1000) * 1000 },
      sender: 'load@example.org',
      recipients: [{ address: `prtest1@${inst.myhostname}` }],
      attributes: { rewrite_context: 'local' },
    });
    await c.content(Buffer.from(`Subject: ${token}\n\nbody ${token}\n`));
    const r = await c.finish();
    return r.status === 0;
  } catch {
    return false;
  }
}

/** postfix start after master was killed: the killed master's children may still be going. */
function restart(inst: Instance): void {
  for (let i = 0; ; i++) {
    try {
      inst.start();
      return;
    } catch (e) {
      if (i === 4) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    }
  }
}

/** The daemons named `program` of the running master's process group. */
function daemons(inst: Instance, program: string): number[] {
  const master = inst.masterPid();
  if (master === null) return [];
  return groupMembers(master).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(`/dist/src/${program}/main.js`);
    } catch {
      return false;
    }
  });
}

/** Token → how many copies are in the Maildir. */
function delivered(maildir: string): Map<string, number> {
  const seen = new Map<string, number>();
  for (const sub of ['new', 'cur']) {
    const d = join(maildir, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      const m = /^Subject: (tok-\S+)$/m.exec(readFileSync(join(d, f), 'utf8'));
      if (m) seen.set(m[1]!, (seen.get(m[1]!) ?? 0) + 1);
    }
  }
  return seen;
}

test('SIGKILL of random daemons under load loses no acknowledged message', {
  timeout: 180_000,
}, async (t) => {
  // A daemon killed while it starts makes master hold the service back for
  // service_throttle_time, as Postfix does; 60 s would outlast the drain wait.
  const inst = startInstance(t, {
    mainCf: (dir) => ({ mail_spool_directory: `${dir}/mail/`, service_throttle_time: '2s' }),
  });
  if (!inst) return;
  const rand = prng(SEED);
  t.diagnostic(`seed ${SEED}, at least ${MESSAGES} messages`);

  const acked = new Set<string>();
  const refused = [0, 0];
  let submitting = true;
  const kills: string[] = [];
  const load = (async () => {
    const CONCURRENCY = 8;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < MESSAGES || (kills.length < MIN_KILLS && next < MESSAGES_CAP)) {
          const i = next++;
          const token = `tok-${SEED}-${i}`;
          // Half through sendmail/maildrop/pickup, half straight into cleanup's stream,
          // which, as an SMTP client would, tries again a few times while cleanup is down.
          let ok = false;
          if (i % 2 === 0) ok = await sendmail(inst, token);
          else
            for (let n = 0; n < 3 && !ok; n++) {
              if (n > 0) await sleep(300);
              ok = await viaCleanup(inst, token);
            }
          if (ok) acked.add(token);
          else refused[i % 2] = (refused[i % 2] ?? 0) + 1;
        }
      }),
    );
    submitting = false;
  })();

  let restarts = 0;
  let slowestRestart = 0;
  while (submitting && kills.length < MAX_KILLS) {
    await sleep(50 + rand() * 250);
    const victim = VICTIMS[Math.floor(rand() * VICTIMS.length)]!;
    if (victim === 'master') {
      const pid = inst.masterPid();
      if (pid === null) continue;
      process.kill(pid, 'SIGKILL');
      kills.push('master');
      await sleep(rand() * 200);
      const began = Date.now();
      restart(inst);
      slowestRestart = Math.max(slowestRestart, Date.now() - began);
      restarts++;
      continue;
    }
    const pids = daemons(inst, victim);
    if (pids.length === 0) continue;
    const pid = pids[Math.floor(rand() * pids.length)]!;
    try {
      process.kill(pid, 'SIGKILL');
      kills.push(victim);
    } catch {
      // It exited on its own meanwhile.
    }
  }
  await load;
  t.diagnostic(
    `kills: ${kills.length} (${kills.join(' ')}), master restarts: ${restarts} (slowest ${slowestRestart} ms)`,
  );
  t.diagnostic(
    `acknowledged ${acked.size}; not acknowledged: sendmail ${refused[0]}, cleanup stream ${refused[1]}`,
  );
  for (const e of sendmailErrors.slice(0, 5)) t.diagnostic(`sendmail failed: ${e}`);
  assert.ok(kills.length >= 5, `the loop killed too little (${kills.length}); the load ended too early`);
  assert.ok(acked.size >= MESSAGES / 2, `only ${acked.size} acknowledged`);

  if (inst.masterPid() === null) restart(inst);
  inst.postfix(['flush']);
  await inst.waitForQueueEmpty(60_000);

  const seen = delivered(join(inst.spool, 'prtest1'));
  const lost = [...acked].filter((tok) => !seen.has(tok));
  const dups = [...seen.values()].filter((n) => n > 1).length;
  const extra = [...seen.keys()].filter((tok) => !acked.has(tok)).length;
  t.diagnostic(
    `delivered ${seen.size} distinct, ${dups} delivered more than once, ${extra} not acknowledged but delivered`,
  );
  for (const q of ['hold', 'defer', 'bounce', 'trace']) {
    const left = inst.queueIds(q);
    if (left.length > 0) t.diagnostic(`left in ${q}/: ${left.join(' ')}`);
  }
  assert.deepEqual(lost, [], `acknowledged but lost (seed ${SEED})`);
  // A crash never leaves a torn file under a queue ID: nothing can have gone to corrupt/.
  assert.deepEqual(inst.queueIds('corrupt'), []);
  assert.match(inst.log(), /status=sent/);
});
