/*
 * The embedded demo configuration: one directory holds configuration,
 * queue and mailboxes; SMTP on a high port on 127.0.0.1; no root needed.
 */

export const DEMO_SMTP_PORT = 2525;

export function demoMainCf(base: string, user: string): string {
  return `# Postroom demo configuration (written by "npm run demo").
# Everything lives under ${base}; nothing needs root.
compatibility_level = 3.6
queue_directory = ${base}/queue
data_directory = ${base}/data
mail_owner = ${user}
default_privs = ${user}
myhostname = demo.postroom.test
mydomain = postroom.test
mydestination = $myhostname, localhost.$mydomain, localhost
inet_interfaces = 127.0.0.1
mynetworks = 127.0.0.0/8
maillog_file = ${base}/maillog
alias_maps = hash:${base}/etc/aliases
alias_database = hash:${base}/etc/aliases
home_mailbox = Maildir/
smtpd_recipient_restrictions =
    permit_mynetworks,
    reject_unauth_destination
`;
}

export function demoMasterCf(): string {
  return `# Postroom demo master.cf: SMTP on 127.0.0.1:${DEMO_SMTP_PORT}
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:${DEMO_SMTP_PORT} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
`;
}

export const DEMO_ALIASES = `# Demo aliases(5) file
postmaster: root
abuse: postmaster
`;
