/*
 * template_defaults - Postroom's built-in bounce message templates
 *
 * Postroom's own wording, not Postfix's: each template carries the same
 * headers and the same $name references as Postfix's built-in one
 * ($myhostname everywhere; $delay_warning_time_hours and
 * $maximal_queue_lifetime_days in the delay notice), so a notification
 * conveys the same facts and `postconf -b` warns about the same time
 * conversions. The From: address is the conventional MAILER-DAEMON, which
 * mail filters and people recognise. All text is US-ASCII.
 */
import type { BounceTemplate, TemplateKind } from './template.js';

export const BUILT_IN = '[built-in]';

const FROM = 'Mail Delivery System <MAILER-DAEMON>';

function builtIn(
  kind: TemplateKind,
  subject: string,
  postmasterSubject: string | undefined,
  text: string,
): BounceTemplate {
  return Object.freeze({
    kind,
    origin: BUILT_IN,
    charset: 'us-ascii',
    from: FROM,
    subject,
    postmasterSubject,
    encoding: '7bit',
    text: Object.freeze(text.split('\n')),
  });
}

export const DEFAULT_TEMPLATES: Readonly<Record<TemplateKind, BounceTemplate>> = Object.freeze({
  failure: builtIn(
    'failure',
    'Undeliverable: your message was returned',
    'Postmaster Copy: Returned Mail',
    `This report comes from the mail system at $myhostname.

Your message could not be delivered to one or more of its
recipients. The reasons are given below, and the message
itself is attached.

If you need help, write to the postmaster of this site and
include this report. You may cut the attached message down
to its headers first.

                   -- the mail system`,
  ),
  delay: builtIn(
    'delay',
    'Delivery delayed: your message is still queued',
    'Postmaster Notice: Mail Delivery Delayed',
    `This report comes from the mail system at $myhostname.

  ***********************************************************
  *  NO ACTION IS NEEDED: DO NOT SEND YOUR MESSAGE AGAIN.   *
  *  This is only a notice; delivery is still being tried.  *
  ***********************************************************

Your message has waited more than $delay_warning_time_hours hour(s) for delivery.
Delivery attempts go on until the message is $maximal_queue_lifetime_days day(s) old;
only then would it be returned to you.

If you need help, write to the postmaster of this site and
include this report. You may cut the attached message down
to its headers first.

                   -- the mail system`,
  ),
  success: builtIn(
    'success',
    'Delivery report: your message was delivered',
    undefined,
    `This report comes from the mail system at $myhostname.

As you asked, here is the delivery status of your message for
the recipient(s) listed below. A message put into a mailbox
has arrived and needs no further report; a message relayed on
to another system may still cause reports from that system.

                   -- the mail system`,
  ),
  verify: builtIn(
    'verify',
    'Delivery status report (as requested)',
    undefined,
    `This report comes from the mail system at $myhostname.

Below is the delivery status report that you asked for.

                   -- the mail system`,
  ),
});
