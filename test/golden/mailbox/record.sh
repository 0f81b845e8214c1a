#!/bin/sh
# Re-record the mailbox goldens from a private Postfix 3.7 instance.
# Needs root and unshare(1): the temp configuration is bind-mounted over
# /etc/postfix inside a private mount namespace, so the system's own
# configuration is never touched. Usage: sh record.sh <output-dir>
set -eu
OUT=${1:?output dir}
G=$(mktemp -d /tmp/pfgold.XXXXXX)
chmod 755 "$G"
trap 'rm -rf "$G"' EXIT
mkdir -p "$G/conf" "$G/q" "$G/data" "$G/spool" "$G/vmail"
chmod 1777 "$G/spool"; chown 65534:65534 "$G/vmail"; chown postfix "$G/data"
cp -a /etc/postfix/master.cf /etc/postfix/postfix-files /etc/postfix/postfix-files.d \
  /etc/postfix/postfix-script /etc/postfix/post-install /etc/postfix/dynamicmaps.cf \
  /etc/postfix/dynamicmaps.cf.d /etc/postfix/makedefs.out "$G/conf/"
sed -i 's/^smtp      inet/#smtp      inet/' "$G/conf/master.cf"
cat > "$G/conf/main.cf" <<CF
queue_directory = $G/q
data_directory = $G/data
myhostname = mx.example.com
mydomain = example.com
mydestination = \$myhostname, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
mail_spool_directory = $G/spool
virtual_mailbox_domains = v.test
virtual_mailbox_base = $G/vmail
virtual_mailbox_maps = inline:{ u@v.test=u/Maildir/, m@v.test=mbox }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
maillog_file = $G/maillog
maillog_file_prefixes = /tmp
compatibility_level = 3.6
biff = no
CF
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'Subject: golden\n\nFrom here\n>From there\nFrom\nlast' | sendmail -f alice@example.com m@v.test u@v.test
  printf 'Subject: two\n\nbody\n' | sendmail -f '' m@v.test
  printf 'Subject: local\n\nFrom here\nlast\n' | sendmail -f '\"odd sender\"@Example.COM' NoBody
  sleep 4; postfix stop; sleep 1"
mkdir -p "$OUT"
cp "$G/vmail/mbox" "$OUT/postfix-virtual-mbox.txt"
cp "$G"/vmail/u/Maildir/new/* "$OUT/postfix-virtual-maildir.txt"
basename "$G"/vmail/u/Maildir/new/* > "$OUT/postfix-virtual-maildir.name"
cp "$G/spool/nobody" "$OUT/postfix-local-mbox.txt"
cp "$G/maillog" "$OUT/maillog.txt"
rm -rf "$G"
