#!/bin/sh
# Manual check (root, unshare): real Postfix 3.7 virtual(8) and our mbox writers
# (dist/test/mailbox/mbox_writer.js, fcntl+dotlock) append to one mbox at the
# same time; every message must come out whole. With "nolock" instead of
# "fcntl,dotlock" the same run corrupts messages (10:15 UTC 2026-11-25:
# 0 bad with locks, 12 of 22 bad without). Build first (npx tsc -p .).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/test/golden/private_postfix.sh"
cat > $G/inner.sh <<'INNER'
G=$1; ROOT=$2
mount --bind $G/conf /etc/postfix && postfix start && sleep 2
touch $G/vmail/mbox; chown 65534 $G/vmail/mbox
for i in 1 2 3 4 5 6 7 8 9 10; do (printf "Subject: pf $i\n\n"; yes "pf line of text" | head -40000; echo "From the end") | sendmail -f pf@example.com m@v.test & done
for t in p1 p2 p3; do node $ROOT/dist/test/mailbox/mbox_writer.js $G/vmail/mbox $t 4 fcntl,dotlock & done
wait; sleep 8; postfix stop; sleep 1
INNER
TZ=UTC timeout 90 unshare -m sh $G/inner.sh $G $ROOT
python3 - "$G/vmail/mbox" <<PY
import mailbox,sys,collections
b=mailbox.mbox(sys.argv[1]); c=collections.Counter(); bad=0
for m in b:
    s=m.get_payload(); subj=m["Subject"]; tag=subj.split()[0]
    lines=s.rstrip("\n").split("\n")
    ok = lines[-1]==">From the end" and all(l==tag+" line of text" for l in lines[:-1]) and len(lines)==40001
    c[tag]+=1; bad+= not ok
print(dict(c), "bad", bad)
PY
grep -c "status=sent" $G/maillog; grep -v "status=sent\|pickup\|cleanup\|qmgr\|removed" $G/maillog | head; rm -rf "$G"
