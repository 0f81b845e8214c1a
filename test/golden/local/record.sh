#!/bin/sh
# Record what Postfix 3.7's local(8) logs and writes for the cases in
# test/local/ (root and unshare needed; see ../private_postfix.sh:
# a private instance, the system's /etc/postfix is never touched).
# Usage: sh record.sh <output-dir>. Users prtest1 and prtest2 must exist.
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
mkdir -p "$G/files" "$G/fwd"
chmod 1777 "$G/files"
cat > "$G/aliases" <<AL
list: prtest1, prtest2
owner-list: prtest2
tofile: $G/files/tofile.mbox
tomaildir: $G/files/md/
tocmd: "|cat > $G/files/cmd.out"
exit67: "|exit 67"
exit75: "|echo 4.2.2 mailbox busy; exit 75"
exit1: "|echo oops; exit 1"
loop1: loop2
loop2: loop1
self: self, prtest1
incl: :include:$G/incl.txt
slow: "|sleep 5"
sig: "|kill -TERM \$\$"
inclmissing: :include:$G/missing.txt
joe: prtest1
inclcmd: :include:$G/inclcmd.txt
AL
printf 'prtest2\n' > "$G/incl.txt"
printf '"|true"\n' > "$G/inclcmd.txt"
printf 'prtest1\n' > "$G/fwd/prtest2.forward"
chown prtest2 "$G/fwd/prtest2.forward"
sed -i '/^alias_maps =/d' "$G/conf/main.cf"
cat >> "$G/conf/main.cf" <<CF
alias_maps = hash:$G/aliases
default_transport = error:no remote mail in this test
forward_path = $G/fwd/\${user}.forward
recipient_delimiter = +
allow_mail_to_files = alias, forward, include
command_time_limit = 2s
propagate_unmatched_extensions = canonical, virtual, alias
CF
postalias -c "$G/conf" "hash:$G/aliases"
TZ=UTC timeout 90 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  for r in list tofile tomaildir tocmd exit67 exit75 exit1 loop1 self incl prtest1+ext nosuchuser prtest2 Self slow sig inclmissing joe+foo inclcmd; do
    printf 'Subject: %s\n\nbody\n' \$r | sendmail -f sender@example.com \$r
  done
  printf 'Delivered-To: prtest1@mx.example.com\nSubject: loop\n\nbody\n' | sendmail -f sender@example.com prtest1
  sleep 9; postfix stop; sleep 1"
mkdir -p "$OUT"
cp "$G/maillog" "$OUT/maillog.txt"
# A second run: luser_relay, mailbox_command_maps, \user in .forward.
: > "$G/maillog"
printf '\\prtest2, %s\n' "$G/files/fwd2.mbox" > "$G/fwd/prtest2.forward"
cat >> "$G/conf/main.cf" <<CF
luser_relay = prtest2+\$user
mailbox_command_maps = inline:{ prtest1=/bin/false }
CF
TZ=UTC timeout 90 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  for r in ghost prtest1 prtest2; do
    printf 'Subject: %s\n\nbody\n' \$r | sendmail -f sender@example.com \$r
  done
  sleep 4; postfix stop; sleep 1"
cp "$G/maillog" "$OUT/maillog-2.txt"
for f in prtest1 prtest2; do cp "$G/spool/$f" "$OUT/spool-$f.txt" 2>/dev/null || true; done
cp "$G/files/tofile.mbox" "$OUT/tofile.txt" 2>/dev/null || true
cp "$G/files/cmd.out" "$OUT/cmd.txt" 2>/dev/null || true
ls -ln "$G/spool" "$G/files" > "$OUT/owners.txt"
