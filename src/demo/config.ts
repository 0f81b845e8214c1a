/*
 * The embedded demo configuration: one directory holds configuration,
 * queue, log and mailboxes; SMTP on a high port on 127.0.0.1. It runs as
 * an ordinary user or as root (then the services run as mail_owner and
 * mailboxes belong to `mailboxUser`).
 *
 * Mail to <anything>@demo.postroom.test goes to a Maildir under
 * mailboxes/ (virtual delivery, one mailbox per address in the demo's
 * inline table); local mail (user@localhost) goes to mail/<user> (the
 * spool directory is inside the instance too).
 */

export const DEMO_SMTP_PORT = 2525;
export const DEMO_DOMAIN = 'demo.postroom.test';
export const DEMO_MAILBOXES = ['you', 'postmaster'] as const;

export interface DemoOwner {
  /** mail_owner and default_privs: the user running the demo, or "postfix" as root. */
  readonly mailOwner: string;
  /** uid/gid that own the virtual mailboxes. */
  readonly uid: number;
  readonly gid: number;
}

export function demoMainCf(base: string, o: DemoOwner): string {
  const boxes = DEMO_MAILBOXES.map((u) => `${u}@${DEMO_DOMAIN}=${u}/Maildir/`).join(', ');
  return `# Postroom demo configuration (written by "npm run demo").
# Everything lives under ${base}.
compatibility_level = 3.6
queue_directory = ${base}/queue
data_directory = ${base}/data
mail_owner = ${o.mailOwner}
default_privs = ${o.mailOwner}
myhostname = mx.${DEMO_DOMAIN}
mydomain = ${DEMO_DOMAIN}
myorigin = $myhostname
mydestination = $myhostname, localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file = ${base}/maillog
maillog_file_prefixes = ${base}
alias_maps = hash:${base}/etc/aliases
alias_database = hash:${base}/etc/aliases
mail_spool_directory = ${base}/mail
virtual_mailbox_domains = ${DEMO_DOMAIN}
virtual_mailbox_base = ${base}/mailboxes
virtual_mailbox_maps = inline:{ ${boxes} }
virtual_minimum_uid = 1
virtual_uid_maps = static:${o.uid}
virtual_gid_maps = static:${o.gid}
smtpd_recipient_restrictions =
    permit_mynetworks,
    reject_unauth_destination
`;
}

/**
 * Postroom's services under the names Postfix's default master.cf uses
 * (smtpd and the smtp client are not written yet). The demo, the
 * benchmark and the integration tests all run this set; tests shorten the
 * wakeups.
 */
export function postroomMasterCf(
  wakeup: { pickup: number; qmgr: number } = { pickup: 60, qmgr: 300 },
): string {
  const p = String(wakeup.pickup).padEnd(8);
  const q = String(wakeup.qmgr).padEnd(8);
  return `# service type  private unpriv  chroot  wakeup  maxproc command + args
pickup    unix  n       -       n       ${p}1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       ${q}1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
postlog   unix-dgram n  -       n       -       1       postlogd
`;
}

/** The demo's master.cf: Postroom's services plus SMTP on 127.0.0.1:2525 (once smtpd exists). */
export function demoMasterCf(): string {
  return `# Postroom demo master.cf: SMTP on 127.0.0.1:${DEMO_SMTP_PORT}
127.0.0.1:${DEMO_SMTP_PORT} inet n - n - - smtpd
${postroomMasterCf()}`;
}

export const DEMO_ALIASES = `# Demo aliases(5) file
postmaster: root
abuse: postmaster
`;
