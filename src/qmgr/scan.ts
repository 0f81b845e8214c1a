/*
 * scan - one pass over the incoming or the deferred queue
 *
 * As Postfix's qmgr_scan: a scan lists the queue's files once and hands
 * them out one at a time; a request that arrives while a scan is under
 * way is remembered and starts a fresh pass when this one ends, so a
 * trigger is never lost and never runs two passes at once. Flags ride
 * with the pass they were requested for:
 *   all   - take files whatever their time stamp (flush)
 *   dfxp  - ignore defer_transports for the messages of this pass (flush)
 */

import { msg } from '../global/msg.js';
import { listQueue, type QueueLayout } from '../global/queue_dirs.js';

export interface ScanFlags {
  readonly all: boolean;
  readonly dfxp: boolean;
}

const NO_FLAGS: ScanFlags = { all: false, dfxp: false };

export class QueueScan {
  #ids: string[] = [];
  #listing: Promise<void> | null = null;
  #running = false;
  #flags: ScanFlags = NO_FLAGS;
  #next: ScanFlags | null = null;

  constructor(
    readonly layout: QueueLayout,
    readonly queue: string,
  ) {}

  /** Ask for a pass; merged into the next one when a pass is under way. */
  request(flags: Partial<ScanFlags> = {}): void {
    const f = { all: flags.all ?? false, dfxp: flags.dfxp ?? false };
    if (!this.#running) {
      this.#start(f);
      return;
    }
    const n = this.#next ?? NO_FLAGS;
    this.#next = { all: n.all || f.all, dfxp: n.dfxp || f.dfxp };
  }

  get busy(): boolean {
    return this.#running;
  }

  #start(flags: ScanFlags): void {
    this.#running = true;
    this.#flags = flags;
    this.#ids = [];
    this.#listing = (async () => {
      const ids: string[] = [];
      try {
        // Synchronous getdents: cheaper than the thread pool, as Postfix's scan.
        for (const f of listQueue(this.layout, this.queue)) ids.push(f.id);
      } catch (e) {
        // An unreadable queue directory ends this pass; the next trigger or timer tries again.
        msg.warn(`scan ${this.queue} queue: ${e instanceof Error ? e.message : String(e)}`);
      }
      this.#ids = ids;
    })();
  }

  /** The next file of the pass under way, with the pass's flags; null when there is none. */
  async next(): Promise<{ id: string; flags: ScanFlags } | null> {
    for (;;) {
      if (!this.#running) return null;
      if (this.#listing !== null) {
        await this.#listing;
        this.#listing = null;
      }
      const id = this.#ids.shift();
      if (id !== undefined) return { id, flags: this.#flags };
      this.#running = false;
      const again = this.#next;
      this.#next = null;
      if (again === null) return null;
      this.#start(again);
    }
  }
}
