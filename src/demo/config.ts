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
 * `root`: pickup keeps root's privileges, because Postroom's sendmail run
 * by root leaves maildrop files only root can read (Postfix's are
 * readable by mail_owner); to be removed when that is fixed.
 */
export function demoMasterCf(root = false): string {
  return `# Postroom demo master.cf: SMTP on 127.0.0.1:${DEMO_SMTP_PORT}
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:${DEMO_SMTP_PORT} inet n - n - - smtpd
pickup    unix  n       ${root ? 'n' : '-'}       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
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

export const DEMO_ALIASES = `# Demo aliases(5) file
postmaster: root
abuse: postmaster
`;
