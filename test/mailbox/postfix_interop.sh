#!/bin/sh
# Manual check (root, unshare): real Postfix 3.7 virtual(8) and our mbox writers
# (dist/test/mailbox/mbox_writer.js, fcntl+dotlock) append to one mbox at the
# same time; every message must come out whole. With "nolock" instead of
# "fcntl,dotlock" the same run corrupts messages (10:15 UTC 2026-11-25:
# 0 bad with locks, 12 of 22 bad without). Build first (npx tsc -p .).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
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
