#!/bin/sh
# postsuper -r and Postfix 3.7's pickup: a message received over SMTP, one
# recipient delivered (discard), one deferred (connection refused), is
# requeued with qmgr stopped; before.txt is the deferred queue file,
# after.txt what pickup+cleanup made of it (all attributes kept, the done
# recipient gone, pickup's Received: added), maillog.txt has pickup's
# orig_id. Same private instance as record_daemon.sh.
# Usage: sh record_requeue.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
echo '127.0.0.1:10026 inet n - n - - smtpd' >> "$G/conf/master.cf"
cat >> "$G/conf/main.cf" <<CF
mynetworks = 127.0.0.0/8
transport_maps = texthash:/etc/postfix/transport
notify_classes =
CF
printf 'bob@example.net smtp:[127.0.0.1]:9\ncarol@example.net discard:gone\n' > "$G/conf/transport"
TZ=UTC timeout 120 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  python3 - <<'PY'
import smtplib
s = smtplib.SMTP('127.0.0.1', 10026)
s.ehlo('client.example.net')
s.sendmail('s@example.org', ['bob@example.net', 'carol@example.net'], 'Subject: requeue me\r\n\r\nbody\r\n')
s.quit()
PY
  sleep 4
  find $G/q -type f -path '*deferred*' > $G/before.txt
  for f in \$(cat $G/before.txt); do echo '=== before'; postcat \$f; done > $G/before-postcat.txt
  postfix stop; sleep 1
  sed -i 's/^qmgr /#qmgr /' $G/conf/master.cf
  postfix start; sleep 2
  postsuper -r ALL
  sleep 1; postkick public pickup W; sleep 3
  for f in \$(find $G/q/incoming -type f); do echo '=== after'; postcat \$f; done > $G/after-postcat.txt
  postfix stop; sleep 1"
mkdir -p "$OUT"
sed "s|$G|G|g" "$G/before-postcat.txt" > "$OUT/before.txt"
sed "s|$G|G|g" "$G/after-postcat.txt" > "$OUT/after.txt"
grep -v 'postfix-script\|master\[' "$G/maillog" | sed "s|$G|G|g" > "$OUT/maillog.txt" || true
