/*
 * settings - the main.cf parameters local(8) reads, once per process
 *
 * Values that are expanded per recipient ($user, $home, ...) are kept raw:
 * forward_path, mailbox_command, luser_relay, command_execution_directory.
 * A bad value of a list parameter is fatal at start-up, as in Postfix.
 */

import type { MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { listItems } from '../maps/braces.js';
import { type MailboxSettings, mailboxSettings } from './mailbox_params.js';

export type ExpansionType = 'alias' | 'forward' | 'include';

export interface LocalSettings {
  readonly cfg: MainConfig;
  readonly mailbox: MailboxSettings;
  readonly aliasMaps: readonly string[];
  readonly forwardPath: string;
  readonly mailSpool: string;
  readonly homeMailbox: string;
  readonly mailboxCommand: string;
  readonly mailboxCommandMaps: readonly string[];
  readonly mailboxTransport: string;
  readonly mailboxTransportMaps: readonly string[];
  readonly fallbackTransport: string;
  readonly fallbackTransportMaps: readonly string[];
  readonly luserRelay: string;
  readonly delimiter: string;
  readonly allowCommands: ReadonlySet<ExpansionType>;
  readonly allowFiles: ReadonlySet<ExpansionType>;
  readonly prependDelivered: ReadonlySet<'command' | 'file' | 'forward'>;
  readonly commandTimeLimit: number;
  readonly commandFilter: string;
  readonly forwardFilter: string;
  readonly execDirFilter: string;
  readonly execDir: string;
  readonly exportEnvironment: readonly string[];
  readonly commandShell: string;
  readonly defaultPrivs: string;
  readonly myorigin: string;
  readonly originalRecipient: boolean;
  readonly expandOwnerAlias: boolean;
  readonly requireHome: boolean;
  readonly strictOwnership: boolean;
  readonly propagate: ReadonlySet<string>;
  readonly queueDirectory: string;
  readonly lineLimit: number;
  readonly dupLimit: number;
  readonly biff: boolean;
  readonly statusFilter: readonly string[];
}

function classes<T extends string>(cfg: MainConfig, name: string, allowed: readonly T[]): Set<T> {
  const out = new Set<T>();
  for (const w of cfg.list(name)) {
    const v = w.toLowerCase() as T;
    if (!allowed.includes(v)) msg.fatal(`bad ${name} value: ${w}`);
    out.add(v);
  }
  return out;
}

/** Postfix's local refuses to start when a message may be larger than a mailbox. */
function checkLimits(cfg: MainConfig): void {
  const mailbox = cfg.long('mailbox_size_limit');
  const message = cfg.long('message_size_limit');
  if (mailbox === 0) return;
  if (message === 0)
    msg.fatal('configuration error: mailbox_size_limit is limited but message_size_limit is unlimited');
  if (mailbox < message)
    msg.fatal('configuration error: mailbox_size_limit is smaller than message_size_limit');
}

export function localSettings(cfg: MainConfig): LocalSettings {
  checkLimits(cfg);
  return {
    cfg,
    mailbox: mailboxSettings(cfg, 'local'),
    aliasMaps: listItems(cfg.get('alias_maps')),
    forwardPath: cfg.rawOrDefault('forward_path') ?? '',
    mailSpool: cfg.get('mail_spool_directory'),
    homeMailbox: cfg.get('home_mailbox'),
    mailboxCommand: cfg.rawOrDefault('mailbox_command') ?? '',
    mailboxCommandMaps: listItems(cfg.get('mailbox_command_maps')),
    mailboxTransport: cfg.get('mailbox_transport'),
    mailboxTransportMaps: listItems(cfg.get('mailbox_transport_maps')),
    fallbackTransport: cfg.get('fallback_transport'),
    fallbackTransportMaps: listItems(cfg.get('fallback_transport_maps')),
    luserRelay: cfg.rawOrDefault('luser_relay') ?? '',
    delimiter: cfg.get('recipient_delimiter'),
    allowCommands: classes(cfg, 'allow_mail_to_commands', ['alias', 'forward', 'include']),
    allowFiles: classes(cfg, 'allow_mail_to_files', ['alias', 'forward', 'include']),
    prependDelivered: classes(cfg, 'prepend_delivered_header', ['command', 'file', 'forward']),
    commandTimeLimit: cfg.time('command_time_limit', 's'),
    commandFilter: cfg.get('command_expansion_filter'),
    forwardFilter: cfg.get('forward_expansion_filter'),
    execDirFilter: cfg.get('execution_directory_expansion_filter'),
    execDir: cfg.rawOrDefault('command_execution_directory') ?? '',
    exportEnvironment: cfg.list('export_environment'),
    commandShell: cfg.get('local_command_shell'),
    defaultPrivs: cfg.get('default_privs'),
    myorigin: cfg.get('myorigin'),
    originalRecipient: cfg.bool('enable_original_recipient'),
    expandOwnerAlias: cfg.bool('expand_owner_alias'),
    requireHome: cfg.bool('require_home_directory'),
    strictOwnership: cfg.bool('strict_mailbox_ownership'),
    propagate: new Set(cfg.list('propagate_unmatched_extensions').map((w) => w.toLowerCase())),
    queueDirectory: cfg.get('queue_directory'),
    lineLimit: cfg.int('line_length_limit'),
    dupLimit: cfg.int('duplicate_filter_limit'),
    biff: cfg.bool('biff'),
    statusFilter: listItems(cfg.get('local_delivery_status_filter')),
  };
}
