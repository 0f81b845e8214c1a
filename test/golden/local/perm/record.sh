#!/bin/sh
# Record what Postfix 3.7's local(8) does when a Maildir or mbox cannot be
# created for lack of permission (root and unshare needed; see
# ../../private_postfix.sh). Usage: sh record.sh <output-dir>.
# User prtest1 must exist. Cases (aliases, delivered as default_privs
# nobody): mdnew (Maildir under a root-owned 0755 directory), mdtmp (a
# Maildir whose tmp/ is root-owned 0755), mbox (a file in a root-owned
# 0755 directory), nodir (a file in a missing directory); and prtest1's home_mailbox Maildir/ under a home
# directory owned by root.
set -eu
OUT=$(realpath -m "${1:?output dir}")
. "$(dirname "$(realpath "$0")")/../../private_postfix.sh"
mkdir -p "$G/ro/md/tmp" "$G/ro/md/new" "$G/ro/md/cur" "$G/home"
chmod 755 "$G/ro" "$G/ro/md/tmp"
cat > "$G/aliases" <<AL
mdnew: $G/ro/newmd/
mdtmp: $G/ro/md/
mbox: $G/ro/file.mbox
nodir: $G/no/such/file.mbox
AL
sed -i '/^alias_maps =/d' "$G/conf/main.cf"
cat >> "$G/conf/main.cf" <<CF
alias_maps = hash:$G/aliases
default_transport = error:no remote mail in this test
allow_mail_to_files = alias, forward, include
home_mailbox = Maildir/
CF
postalias -c "$G/conf" "hash:$G/aliases"
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && mount --bind $G/home /home && postfix start && sleep 2
  for r in mdnew mdtmp mbox nodir prtest1; do
    printf 'Subject: %s\n\nbody\n' \$r | sendmail -f sender@example.com \$r
  done
  sleep 4; postfix stop; sleep 1"
mkdir -p "$OUT"
sed "s|$G|/G|g" "$G/maillog" > "$OUT/maillog.txt"
