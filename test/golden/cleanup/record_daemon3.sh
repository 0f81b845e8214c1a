#!/bin/sh
# Third set: address mapping through pickup+cleanup (canonical, virtual
# aliases, bcc, header rewriting, MAILER-DAEMON sender). Same private
# instance as record_daemon.sh. Usage: sh record_daemon3.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../mailbox/private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
cat >> "$G/conf/main.cf" <<CF
sender_canonical_maps = inline:{ alice@example.com=alice.smith@example.net }
canonical_maps = inline:{ bob@example.com=robert@example.com }
virtual_alias_maps = texthash:$G/conf/virtual
sender_bcc_maps = inline:{ alice.smith@example.net=archive@example.com }
always_bcc = audit@example.com
CF
printf 'robert@example.com r1@example.com, r2@example.com\nlist@example.com a@example.com, b@example.com\n' > "$G/conf/virtual"
TZ=UTC timeout 60 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'To: bob@example.com, Carol <carol>\nCc: list@example.com\nSubject: mapped\n\nbody\n' | sendmail -F root -f alice@example.com bob@example.com list@example.com
  sleep 1
  printf 'Subject: short\n\nbody\n' | sendmail -F root -f alice carol
  sleep 2; postfix stop; sleep 1"
mkdir -p "$OUT"
: > "$OUT/postcat.txt"
for f in $(cd "$G/q" && find incoming hold -type f | sort); do
  echo "=== $f" | sed 's#/[0-9A-F]*$#/ID#' >> "$OUT/postcat.txt"
  postcat -c "$G/conf" "$G/q/$f" >> "$OUT/postcat.txt" 2>&1 || true
done
cp "$G/maillog" "$OUT/maillog.txt"
