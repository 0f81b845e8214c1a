#!/bin/sh
# Re-record the mailbox goldens from a private Postfix 3.7 instance.
# Needs root and unshare(1): the temp configuration is bind-mounted over
# /etc/postfix inside a private mount namespace, so the system's own
# configuration is never touched. Usage: sh record.sh <output-dir>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
pf_run 60 4 "
  printf 'Subject: golden\n\nFrom here\n>From there\nFrom\nlast' | sendmail -f alice@example.com m@v.test u@v.test
  printf 'Subject: two\n\nbody\n' | sendmail -f '' m@v.test
  printf 'Subject: local\n\nFrom here\nlast\n' | sendmail -f '\"odd sender\"@Example.COM' NoBody"
mkdir -p "$OUT"
cp "$G/vmail/mbox" "$OUT/postfix-virtual-mbox.txt"
cp "$G"/vmail/u/Maildir/new/* "$OUT/postfix-virtual-maildir.txt"
basename "$G"/vmail/u/Maildir/new/* > "$OUT/postfix-virtual-maildir.name"
cp "$G/spool/nobody" "$OUT/postfix-local-mbox.txt"
cp "$G/maillog" "$OUT/maillog.txt"
rm -rf "$G"
