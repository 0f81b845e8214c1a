/*
 * settings - virtual(8)'s main.cf parameters, checked at start-up as
 * Postfix checks them (a bad value stops the agent with Postfix's fatal)
 */

import type { MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { type MailboxSettings, mailboxSettings } from '../local/mailbox_params.js';

export interface VirtualSettings extends MailboxSettings {
  readonly base: string;
  readonly minimumUid: number;
  readonly recipientDelimiter: string;
  readonly strictOwner: boolean;
  readonly maps: Readonly<Record<string, string>>;
}

export const VIRTUAL_MAPS = ['virtual_mailbox_maps', 'virtual_uid_maps', 'virtual_gid_maps'] as const;

export function virtualSettings(cfg: MainConfig): VirtualSettings {
  const base = cfg.get('virtual_mailbox_base');
  if (base.length < 1) msg.fatal(`bad string length 0 < 1: virtual_mailbox_base = ${base}`);
  const mailbox = mailboxSettings(cfg, 'virtual');
  const messageLimit = cfg.long('message_size_limit', 0);
  if (mailbox.sizeLimit > 0 && mailbox.sizeLimit < messageLimit)
    msg.fatal('configuration error: virtual_mailbox_limit is smaller than message_size_limit');
  // Literal names: scripts/gen-params-used.mjs finds the parameters the code reads.
  const maps: Record<(typeof VIRTUAL_MAPS)[number], string> = {
    virtual_mailbox_maps: cfg.get('virtual_mailbox_maps'),
    virtual_uid_maps: cfg.get('virtual_uid_maps'),
    virtual_gid_maps: cfg.get('virtual_gid_maps'),
  };
  return {
    ...mailbox,
    base,
    minimumUid: cfg.int('virtual_minimum_uid', 1),
    recipientDelimiter: cfg.get('recipient_delimiter'),
    strictOwner: cfg.bool('strict_mailbox_ownership'),
    maps,
  };
}
