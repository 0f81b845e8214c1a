#!/bin/sh
# Record virtual(8), error(8), retry and discard(8) behaviour from a private
# Postfix 3.7 instance (root and unshare(1) needed; the temp configuration is
# bind-mounted over /etc/postfix in a private mount namespace, so the
# system's own configuration is never touched). Usage: sh record.sh <out-dir>
# Output: maillog.txt (both runs), mailbox files as <name>.txt.
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
sed -i "/^virtual_/d" "$G/conf/main.cf"
cat >> "$G/conf/main.cf" <<CF
virtual_mailbox_base = $G/vmail
virtual_mailbox_domains = v.test w.test x.test
virtual_mailbox_maps = inline:{ u@v.test=u/Maildir/, m@v.test=mbox, big@v.test=big, low@v.test=low/, bad@v.test=bad/, zero@v.test=zero/, nouid@x.test=nouid/, gid@x.test=gid/, bigm@v.test=bigm/, perm@v.test=perm/Maildir/, own@v.test=own, n@v.test=nbox, own2@v.test=own2, link@v.test=link, bare=bare/, @w.test=catch/ }
virtual_uid_maps = inline:{ @v.test=65534, @w.test=65534, gid@x.test=65534, low@v.test=5, bad@v.test=abc, bare=65534 }
virtual_gid_maps = inline:{ @v.test=65534, @w.test=65534, zero@v.test=0, bare=65534 }
local_transport = virtual
recipient_delimiter = +
message_size_limit = 3000
virtual_mailbox_limit = 3000
transport_maps = texthash:$G/conf/transport
CF
cat > "$G/conf/transport" <<TR
e1@e.test error:5.1.1 no such person
e2@e.test error:
e3@e.test error:4.4.1 try later
e4@e.test error:no status here
r1@e.test retry:4.3.2 slow down
r2@e.test retry:
r3@e.test retry:5.1.1 permanent
d1@e.test discard:gone away
d2@e.test discard:
d3@e.test discard:2.1.5 ok then
d4@e.test discard:5.1.1 odd
TR
mkdir -m 700 "$G/vmail/perm"; touch "$G/vmail/own"
touch "$G/vmail/own2"; chmod 666 "$G/vmail/own2"
touch "$G/target"; chown 65534:65534 "$G/target"; ln -s "$G/target" "$G/vmail/link"
head -c 2900 /dev/zero | tr '\0' 'x' | fold -w 70 > "$G/vmail/big"; chown 65534:65534 "$G/vmail/big"
pf_run 120 4 "
  s() { sleep 0.3; sendmail \"\$@\"; }
  printf 'Subject: maildir\n\nhello\n' | s -f alice@example.com u@v.test
  printf 'Subject: mbox\n\nFrom here\n' | s -f alice@example.com m@v.test
  printf 'Subject: ext\n\nbody\n' | s -f alice@example.com u+tag@v.test
  printf 'Subject: catch\n\nbody\n' | s -f alice@example.com Someone@w.test
  printf 'Subject: unknown\n\nbody\n' | s -f alice@example.com UNKNOWN@v.test
  printf 'Subject: unknown2\n\nbody\n' | s -f alice@example.com nobody+ext@v.test
  printf 'Subject: big\n\nbody\n' | s -f alice@example.com big@v.test
  printf 'Subject: low\n\nbody\n' | s -f alice@example.com low@v.test
  printf 'Subject: bad\n\nbody\n' | s -f alice@example.com bad@v.test
  printf 'Subject: zero\n\nbody\n' | s -f alice@example.com zero@v.test
  printf 'Subject: nouid\n\nbody\n' | s -f alice@example.com nouid@x.test
  printf 'Subject: nogid\n\nbody\n' | s -f alice@example.com gid@x.test
  (printf 'Subject: bigm\n\n'; head -c 2395 /dev/zero | tr '\\0' 'y' | fold -w 70) | s -f alice@example.com bigm@v.test
  printf 'Subject: perm\n\nbody\n' | s -f alice@example.com perm@v.test
  printf 'Subject: own\n\nbody\n' | s -f alice@example.com own@v.test
  printf 'Subject: own2\n\nbody\n' | s -f alice@example.com own2@v.test
  printf 'Subject: link\n\nbody\n' | s -f alice@example.com link@v.test
  printf 'Subject: bare\n\nbody\n' | s -f alice@example.com bare+x@localhost
  printf 'Subject: null\n\nFrom me\n' | s -f '' n@v.test u@v.test '\"odd user\"@w.test'
  for r in e1 e2 e3 e4 r1 r2 r3 d1 d2 d3 d4; do printf 'Subject: \$r\n\nbody\n' | s -f alice@example.com \$r@e.test; done
  printf 'Subject: two\n\nbody\n' | s -f alice@example.com e1@e.test d1@e.test
  printf 'Subject: verify\n\nbody\n' | s -bv -f alice@example.com u@v.test m@v.test nobody@v.test e1@e.test r1@e.test d1@e.test
  sleep 5
  postconf -e 'virtual_mailbox_maps = tcp:127.0.0.1:9' && postfix reload && sleep 2
  printf 'Subject: tcp\n\nbody\n' | s -f alice@example.com u@v.test
  sleep 3; postconf -e 'virtual_mailbox_maps = socketmap:inet:127.0.0.1:9:virtual' && postfix reload && sleep 2
  printf 'Subject: socketmap\n\nbody\n' | s -f alice@example.com u@v.test
  sleep 3; postconf -e 'virtual_mailbox_maps = hash:$G/nonexistent' && postfix reload && sleep 2
  printf 'Subject: hash\n\nbody\n' | s -f alice@example.com u@v.test"
mkdir -p "$OUT"
cp "$G/maillog" "$OUT/maillog.txt"
cp "$G/vmail/mbox" "$OUT/mbox.txt"
cp "$G/vmail/nbox" "$OUT/nbox.txt"
for d in u/Maildir catch; do for f in "$G/vmail/$d"/new/*; do cat "$f"; echo ====; done; done > "$OUT/maildirs.txt"
ls -lnR "$G/vmail" > "$OUT/vmail-ls.txt"
rm -rf "$G"
