/*
 * deliver_agent - the skeleton of a delivery agent (local, virtual, error,
 * discard; smtp, lmtp and pipe later)
 *
 *   runDeliveryAgent({
 *     program: 'local',
 *     async deliver(job) {
 *       for (const r of job.req.recipients) await job.status.sent(r, {...});
 *     },
 *   });
 *
 * Serves delivery requests (src/global/deliver_request.ts) on the
 * service's socket, many at once. For each request it checks the request,
 * opens the queue file for writing (markDone), calls deliver(), and
 * answers qmgr with every recipient's outcome. A recipient the agent left
 * without an outcome (a thrown error, a bug) is deferred with
 * "4.3.0 delivery agent error": nothing is lost, qmgr tries again later.
 * A queue file that cannot be opened answers status 1 (qmgr defers).
 */

import { runService, type ServiceContext } from '../master/service.js';
import type { MainConfig } from './config.js';
import {
  type DeliverRecipient,
  type DeliverReply,
  type DeliverRequest,
  parseDeliverRequest,
  type RecipientOutcome,
  requestStats,
} from './deliver_request.js';
import { type DsnDetail, RecipientStatus } from './deliver_status.js';
import { nowMicros } from './log_format.js';
import { msg } from './msg.js';
import { queueFilePath } from './queue_dirs.js';
import { openQueueFile, type QueueFileReader } from './queue_file_reader.js';
import { type RpcMessage, serveRpc } from './rpc.js';

/** One delivery request in the agent's hands. */
export class DeliveryJob {
  readonly #outcomes = new Map<number, RecipientOutcome>();

  constructor(
    readonly req: DeliverRequest,
    readonly file: QueueFileReader,
    readonly ctx: ServiceContext,
    private readonly recorder: RecipientStatus,
  ) {}

  get cfg(): MainConfig {
    return this.ctx.cfg;
  }

  /** Record outcomes through these; each logs, writes the per-recipient log and marks done. */
  readonly status = {
    sent: (r: DeliverRecipient, d: DsnDetail, o?: { keep?: boolean }) =>
      this.#note(r, this.recorder.sent(r, d, o)),
    bounce: (r: DeliverRecipient, d: DsnDetail, o?: { keep?: boolean }) =>
      this.#note(r, this.recorder.bounce(r, d, o)),
    defer: (r: DeliverRecipient, d: DsnDetail) => this.#note(r, this.recorder.defer(r, d)),
  };

  /** The message content, exactly as queued, streamed. */
  content(): AsyncGenerator<Buffer> {
    return this.file.contentBytes();
  }

  /** An outcome another agent logged and recorded (local(8) passing a recipient to mailbox_transport). */
  passed(r: DeliverRecipient, o: RecipientOutcome): void {
    this.#outcomes.set(r.offset, o);
  }

  outcome(r: DeliverRecipient): RecipientOutcome | undefined {
    return this.#outcomes.get(r.offset);
  }

  async #note(r: DeliverRecipient, p: Promise<RecipientOutcome>): Promise<RecipientOutcome> {
    const o = await p;
    this.#outcomes.set(r.offset, o);
    return o;
  }
}

export interface AgentSpec {
  readonly program: string;
  init?(ctx: ServiceContext): Promise<void> | void;
  deliver(job: DeliveryJob): Promise<void>;
  stop?(): Promise<void> | void;
}

export function runDeliveryAgent(spec: AgentSpec): void {
  runService({
    program: spec.program,
    kind: 'connection',
    init: (ctx) => spec.init?.(ctx),
    connection: (sock, ctx) => serveRpc(sock, (m) => handleRequest(spec, ctx, m), { name: spec.program }),
    stop: () => spec.stop?.(),
  });
}

/** @internal exported for tests that drive an agent in-process. */
export async function handleRequest(
  spec: AgentSpec,
  ctx: ServiceContext,
  m: RpcMessage,
): Promise<RpcMessage> {
  const handoff = nowMicros();
  const req = parseDeliverRequest(m);
  if (typeof req === 'string') {
    msg.warn(`malformed delivery request: ${req}`);
    return reply({ status: 1, results: [], reason: `4.3.0 malformed delivery request: ${req}` });
  }
  const path = queueFilePath(ctx.layout, req.queue_name, req.queue_id);
  const opened = await openQueueFile(path, { write: true });
  if (!opened.ok) {
    msg.warn(`${req.queue_id}: open queue file ${path}: ${opened.error.message}`);
    return reply({ status: 1, results: [], reason: '4.3.0 cannot open queue file' });
  }
  const file = opened.file;
  const recorder = new RecipientStatus(ctx.cfg, req, file, requestStats(req, handoff));
  const job = new DeliveryJob(req, file, ctx, recorder);
  try {
    await spec.deliver(job);
  } catch (e) {
    msg.warn(`${req.queue_id}: ${spec.program}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    for (const r of req.recipients) {
      if (job.outcome(r) === undefined)
        await job.status.defer(r, { status: '4.3.0', relay: spec.program, reason: 'delivery agent error' });
    }
  } finally {
    await file.close().catch(() => {});
  }
  return reply({
    status: 0,
    results: req.recipients.map((r) => ({ offset: r.offset, outcome: job.outcome(r) ?? 'deferred' })),
  });
}

function reply(r: DeliverReply): RpcMessage {
  return { ...r };
}
