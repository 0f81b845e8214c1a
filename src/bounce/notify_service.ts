/*
 * notify_service - the notices made from the per-message logs
 *
 * flushBounce(): the non-delivery notice. To the sender, listing the
 * recipients whose DSN NOTIFY asks for failures (or says nothing);
 * NOTIFY=NEVER for all of them means no notice. With "bounce" in
 * notify_classes a postmaster copy (headers only, every recipient) goes
 * to $bounce_notice_recipient. Mail from the null sender cannot be
 * returned: with "2bounce" (or "bounce") in notify_classes it goes whole
 * to $2bounce_notice_recipient as a double bounce, else it is dropped.
 * Postmaster notices are sent from $double_bounce_sender@$myhostname. Mail
 * from $double_bounce_sender is never bounced again ("undeliverable
 * postmaster notification discarded").
 *
 * warnDelay(): the delay warning to the sender (NOTIFY=DELAY or nothing
 * said), with a postmaster copy when "delay" is in notify_classes; none
 * for a notice (null sender), as in Postfix 3.7, and a warning that a
 * postmaster notice was discarded for $double_bounce_sender mail. The
 * defer log stays: the recipients are still to do.
 *
 * flushTrace(): the success notice for every recipient in the trace log
 * (only recipients that asked are recorded there); none for notices.
 * For sendmail -bv (DEL_REQ_FLAG.VERIFY) and -v (RECORD) it is the
 * delivery report instead, from verify_template: every recipient, with
 * its verdict (deliverable, undeliverable) or its outcome.
 *
 * Each logs Postfix's "ID: sender non-delivery notification: NEWID" (or
 * delay / delivery status, postmaster). Guarantees: a log is removed only
 * after every notice that must be sent was committed by cleanup; when the
 * original cannot be read or cleanup fails, the reply is status 1 with a
 * reason and the log stays for the next attempt. A failed postmaster copy
 * only warns, as it does in Postfix.
 */

import type { MainConfig } from '../global/config.js';
import { DEL_REQ_FLAG } from '../global/deliver_request.js';
import { DSN_NOTIFY_DELAY, DSN_NOTIFY_FAILURE, type DsnAction } from '../global/dsn.js';
import { type NotificationKind, notificationLine } from '../global/log_format.js';
import { msg } from '../global/msg.js';
import { composeNotice, type NoticeSettings } from './dsn_notice.js';
import { type CopyKind, postmasterCopyTo } from './dsn_notify.js';
import type { DsnMessage, DsnRecipient } from './dsn_types.js';
import type { LogName, LogRecord, LogStore } from './log_file.js';
import { OriginalUnavailable, readOriginal } from './original.js';
import { doubleBounceAddress, NoticeFailed, postNotice } from './post_notice.js';
import type { NoticeRequestIn } from './request.js';
import type { TemplateKind } from './template.js';
import type { BounceTemplates } from './template_load.js';

export interface NotifyContext {
  readonly cfg: MainConfig;
  readonly store: LogStore;
  readonly templates: BounceTemplates;
  readonly settings: NoticeSettings;
  /** maximal_queue_lifetime in seconds (Will-Retry-Until of delay notices). */
  readonly queueLifetime: number;
}

export interface NotifyReply {
  readonly status: 0 | 1;
  readonly reason?: string;
  [k: string]: unknown;
}

const OK: NotifyReply = { status: 0 };

/** "host mx.example[192.0.2.1] said: 550 5.1.1 ... (in reply to RCPT TO command)" */
const REMOTE = /^host (\S+?)\[[^\]]*\] said: (.*?)(?: \(in reply to .* command\))?$/s;

/** A remote server's own reply, for a relay "host[addr]:port": [whole, host, reply]. */
function remoteSuccess(r: LogRecord): string[] | null {
  const host = /^(\S+?)\[[^\]]*\](?::\d+)?$/.exec(r.relay);
  if (!host) return null;
  const reply = r.reason.startsWith(`delivery via ${r.relay}: `)
    ? r.reason.slice(`delivery via ${r.relay}: `.length)
    : r.reason;
  return /^[245]\d\d(?:[ -]|$)/.test(reply) ? [r.reason, host[1] as string, reply] : null;
}

/** A log record as a notice's recipient. */
export function noticeRecipient(r: LogRecord): DsnRecipient {
  let original: string | undefined;
  let originalType: string | undefined;
  const semi = r.dsnOrigRcpt.indexOf(';');
  if (semi > 0) {
    originalType = r.dsnOrigRcpt.slice(0, semi);
    original = r.dsnOrigRcpt.slice(semi + 1);
  } else if (r.origRcpt !== '') {
    original = r.origRcpt;
  }
  const remote = REMOTE.exec(r.reason) ?? remoteSuccess(r);
  return {
    address: r.recipient,
    original,
    originalType,
    // Postfix's "(expanded from <...>)" names the original recipient record, not the ORCPT.
    ...(r.origRcpt === '' ? {} : { expandedFrom: r.origRcpt }),
    action: r.action as DsnAction,
    status: r.status,
    reason: r.reason,
    diagnosticType: remote ? 'smtp' : 'X-Postfix',
    diagnostic: remote ? remote[2] : r.reason,
    remoteMta: remote ? remote[1] : undefined,
  };
}

/** The last record of each recipient (a recipient tried twice is reported once). */
function latest(records: readonly LogRecord[]): LogRecord[] {
  const byKey = new Map<string, LogRecord>();
  for (const r of records) {
    const key = `${r.offset}\0${r.recipient}`;
    byKey.delete(key);
    byKey.set(key, r);
  }
  return [...byKey.values()];
}

const wants = (bit: number) => (r: LogRecord) => r.dsnNotify === 0 || (r.dsnNotify & bit) !== 0;

class Failed extends Error {}

/** Compose and queue one notice; logs the notification line. Throws Failed. */
async function send(
  nc: NotifyContext,
  queueId: string,
  message: DsnMessage,
  records: readonly LogRecord[],
  how: {
    kind: TemplateKind;
    line: NotificationKind;
    to?: string;
    postmaster?: boolean;
    returnFull?: boolean;
  },
): Promise<void> {
  const willRetryUntil =
    how.kind === 'delay' ? new Date(message.arrival.getTime() + nc.queueLifetime * 1000) : undefined;
  let notice: ReturnType<typeof composeNotice>;
  try {
    notice = composeNotice(nc.templates, nc.settings, {
      kind: how.kind,
      message,
      recipients: records.map(noticeRecipient),
      willRetryUntil,
      postmaster: how.postmaster,
      returnFull: how.returnFull,
      to: how.to,
    });
  } catch (e) {
    throw new Failed(`${queueId}: cannot compose ${how.line} notification: ${(e as Error).message}`);
  }
  const sender = how.postmaster ? doubleBounceAddress(nc.cfg) : '';
  try {
    const newId = await postNotice(nc.cfg, sender, notice);
    msg.info(notificationLine(queueId, newId, how.line, how.postmaster ? 'postmaster' : 'sender'));
  } catch (e) {
    if (e instanceof NoticeFailed) throw new Failed(`${queueId}: ${how.line} notification: ${e.message}`);
    throw e;
  }
}

/** A postmaster copy: its failure is only worth a warning. */
async function sendCopy(
  nc: NotifyContext,
  req: NoticeRequestIn,
  original: () => Promise<DsnMessage>,
  records: readonly LogRecord[],
  copy: CopyKind,
  kind: TemplateKind,
  line: NotificationKind,
): Promise<void> {
  const to = postmasterCopyTo(nc.cfg, copy);
  if (to === undefined || to === '') return;
  try {
    await send(nc, req.queueId, await original(), records, { kind, line, to, postmaster: true });
  } catch (e) {
    if (!(e instanceof Failed)) throw e;
    msg.warn(e.message);
    msg.warn(
      `${req.queueId}: postmaster notice failed while ${kind === 'delay' ? 'warning' : 'bouncing'} to ${req.sender}`,
    );
  }
}

const isDoubleBounce = (nc: NotifyContext, sender: string): boolean =>
  sender.toLowerCase() === doubleBounceAddress(nc.cfg).toLowerCase();

/** Read the log and the original, then run `work`; failures become status 1. */
async function withLog(
  nc: NotifyContext,
  log: LogName,
  req: NoticeRequestIn,
  work: (records: LogRecord[], original: () => Promise<DsnMessage>) => Promise<void>,
): Promise<NotifyReply> {
  return nc.store.exclusive(log, req.queueId, async () => {
    const records = await nc.store.read(log, req.queueId);
    // No log: an earlier request did the work (its reply may have been lost).
    if (records === null) return OK;
    let cached: Promise<DsnMessage> | undefined;
    // Read only when a notice is really sent, and once.
    const original = () =>
      (cached ??= readOriginal(nc.store.layout, {
        queueName: req.queueName,
        queueId: req.queueId,
        sizeLimit: nc.settings.sizeLimit,
        dsnEnvid: req.dsnEnvid,
        dsnRet: req.dsnRet,
      }));
    try {
      await work(latest(records), original);
    } catch (e) {
      if (!(e instanceof Failed) && !(e instanceof OriginalUnavailable)) throw e;
      const reason = e instanceof OriginalUnavailable ? `${req.queueId}: ${e.message}` : e.message;
      msg.warn(reason);
      return { status: 1, reason };
    }
    return OK;
  });
}

export function flushBounce(nc: NotifyContext, req: NoticeRequestIn): Promise<NotifyReply> {
  return withLog(nc, 'bounce', req, async (records, original) => {
    if (isDoubleBounce(nc, req.sender)) {
      msg.warn(`${req.queueId}: undeliverable postmaster notification discarded`);
    } else if (req.sender === '') {
      const to = postmasterCopyTo(nc.cfg, 'double-bounce');
      if (to !== undefined && to !== '' && records.length > 0) {
        // The null sender is shown as MAILER-DAEMON@$myhostname; the whole message goes back.
        const message = { ...(await original()), sender: `MAILER-DAEMON@${nc.cfg.get('myhostname')}` };
        await send(nc, req.queueId, message, records, {
          kind: 'failure',
          line: 'non-delivery',
          to,
          postmaster: true,
          returnFull: true,
        });
      }
    } else {
      const mine = records.filter(wants(DSN_NOTIFY_FAILURE));
      if (mine.length > 0)
        await send(nc, req.queueId, await original(), mine, { kind: 'failure', line: 'non-delivery' });
      if (records.length > 0)
        await sendCopy(nc, req, original, records, 'failure', 'failure', 'non-delivery');
    }
    await nc.store.remove('bounce', req.queueId);
  });
}

export function warnDelay(nc: NotifyContext, req: NoticeRequestIn): Promise<NotifyReply> {
  return withLog(nc, 'defer', req, async (records, original) => {
    // Postfix 3.7 warns nobody of a delayed notice, whatever notify_classes says.
    if (records.length === 0 || req.sender === '') return;
    if (isDoubleBounce(nc, req.sender)) {
      msg.warn(`${req.queueId}: undeliverable postmaster notification discarded`);
      return;
    }
    const mine = records.filter(wants(DSN_NOTIFY_DELAY));
    if (mine.length > 0)
      await send(nc, req.queueId, await original(), mine, { kind: 'delay', line: 'delay' });
    await sendCopy(nc, req, original, records, 'delay', 'delay', 'delay');
  });
}

export function flushTrace(nc: NotifyContext, req: NoticeRequestIn): Promise<NotifyReply> {
  return withLog(nc, 'trace', req, async (records, original) => {
    if (isDoubleBounce(nc, req.sender)) {
      msg.info(`${req.queueId}: not sending trace/success notification for double-bounce message`);
    } else if (req.sender === '') {
      msg.info(`${req.queueId}: not sending trace/success notification for single-bounce message`);
    } else if (records.length > 0) {
      const report = (req.flags & (DEL_REQ_FLAG.VERIFY | DEL_REQ_FLAG.RECORD)) !== 0;
      await send(nc, req.queueId, await original(), records, {
        kind: report ? 'verify' : 'success',
        line: 'delivery status',
      });
    }
    await nc.store.remove('trace', req.queueId);
  });
}
