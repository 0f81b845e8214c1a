#!/bin/sh
# Record what Postfix 3.7 does for sendmail -bv (address verification
# report) and sendmail -v (delivery report) with local(8) recipients: log
# lines, the reports the sender gets, and that -bv delivers nothing.
# Root and unshare needed (see ../private_postfix.sh: a private
# instance, the system's /etc/postfix is never touched).
# Usage: sh record.sh <output-dir>. Users prtest1 and prtest2 must exist.
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
mkdir -p "$G/files"
chmod 1777 "$G/files"
cat > "$G/aliases" <<AL
list: prtest1, tocmd
tofile: $G/files/tofile.mbox
tomaildir: $G/files/md/
tocmd: "|cat > $G/files/cmd.out"
away: elsewhere@example.net
AL
mkdir -p "$G/fwd"
sed -i '/^alias_maps =/d' "$G/conf/main.cf"
cat >> "$G/conf/main.cf" <<CF
alias_maps = hash:$G/aliases
default_transport = error:no remote mail in this test
allow_mail_to_files = alias, forward, include
forward_path = $G/fwd/\${user}.forward
CF
postalias -c "$G/conf" "hash:$G/aliases"
pf_run 90 3 "
  sendmail -bv -f prtest2 prtest1 tocmd tofile tomaildir list nosuchuser remote@example.net </dev/null >$G/bv.out 2>$G/bv.err; echo \$? >$G/bv.status
  sleep 3
  printf 'Subject: record me\n\nbody\n' | sendmail -v -f prtest2 prtest1 tofile nosuchuser >$G/v.out 2>$G/v.err; echo \$? >$G/v.status
  sleep 4
  printf 'prtest1\\n' > $G/fwd/prtest2.forward; chown prtest2 $G/fwd/prtest2.forward
  sendmail -bv -f prtest1 away prtest2 </dev/null >$G/bv2.out 2>$G/bv2.err; echo \$? >$G/bv2.status"
mkdir -p "$OUT"
cp "$G/maillog" "$OUT/maillog.txt"
for f in bv2.out bv2.err bv2.status bv.out bv.err bv.status v.out v.err v.status; do cp "$G/$f" "$OUT/$f"; done
cp "$G/spool/prtest2" "$OUT/spool-prtest2.txt"
cp "$G/spool/prtest1" "$OUT/spool-prtest1.txt"
cp "$G/files/tofile.mbox" "$OUT/tofile.txt" 2>/dev/null || true
ls -R "$G/files" > "$OUT/files-ls.txt"
