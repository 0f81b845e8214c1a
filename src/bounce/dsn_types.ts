/*
 * dsn_types - what a delivery status notification is made from
 *
 * The queue manager and delivery agents fill these in: DsnMessage
 * describes the original message (envelope facts from the queue file and
 * its content, already split into header section and body), DsnRecipient
 * one recipient's outcome. Text is as src/maps/bytes.ts decodes it;
 * lines end in "\n" (no CR).
 */
import type { DsnAction, DsnRet } from '../global/dsn.js';

export interface DsnMessage {
  readonly queueId: string;
  /** Envelope sender; "" is the null sender (a notice is then not sent to it). */
  readonly sender: string;
  readonly arrival: Date;
  /** ENVID= of the original submission, if any. */
  readonly envId?: string | undefined;
  /** RET= of the original submission (0: not specified). */
  readonly ret: DsnRet;
  /** The message was received with SMTPUTF8. */
  readonly smtputf8?: boolean | undefined;
  /** The body encoding cleanup recorded ("7bit", "8bit"), when it recorded one. */
  readonly encoding?: string | undefined;
  /** The header section, each header line ending in "\n", no blank line. */
  readonly headers: string;
  /** The body, after the blank line that ends the headers. */
  readonly body: string;
  /**
   * The message size the queue manager logs (size=...), when known: what
   * bounce_size_limit is compared with. Default: headers, blank line and
   * body counted with CRLF line ends.
   */
  readonly size?: number | undefined;
}

export interface DsnRecipient {
  /** The address delivery was attempted to (Final-Recipient). */
  readonly address: string;
  /** The address as the sender gave it, when different or given as ORCPT. */
  readonly original?: string | undefined;
  /** Address type of `original` (ORCPT's "rfc822", "utf-8"); rfc822 by default. */
  readonly originalType?: string | undefined;
  /**
   * The recipient before aliasing and rewriting as the queue file's original
   * recipient has it, for "(expanded from <...>)"; `original` when absent.
   */
  readonly expandedFrom?: string | undefined;
  readonly action: DsnAction;
  /** Enhanced status code, e.g. "5.1.1". */
  readonly status: string;
  /** The human-readable reason Postfix logs after "status=...", e.g. "host x[1.2.3.4] said: 550 ...". */
  readonly reason: string;
  /** Diagnostic-Code type and text: "smtp" and the remote reply, or "x-unix"/"x-postfix" and a local reason. */
  readonly diagnosticType?: string | undefined;
  readonly diagnostic?: string | undefined;
  /** Remote-MTA host name, when a remote server answered. */
  readonly remoteMta?: string | undefined;
  /** Last delivery attempt, when known. */
  readonly lastAttempt?: Date | undefined;
}
