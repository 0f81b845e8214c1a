#!/bin/sh
# The body encoding Postfix 3.7's cleanup records: sendmail -B sets the
# envelope's encoding attribute, cleanup writes the message's encoding
# after the content (8bit when a MIME part declares 8bit or binary, else
# the client's); 8-bit bytes alone set nothing. A lower-case -B value is
# refused (see test/golden/sendmail/errors.json: lower-B). Same private
# instance as record_daemon.sh. Usage: sh record_encoding.sh <out>
set -eu
OUT=${1:?output dir}
. "$(dirname "$0")/../private_postfix.sh"
sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
S='sendmail -f alice@example.com'
TZ=UTC timeout 120 unshare -m sh -c "
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
  printf 'Subject: e1-plain\n\nbody\n' | $S bob@example.com; sleep 1
  printf 'Subject: e2-8bit-body\n\ncaf\303\251\n' | $S bob@example.com; sleep 1
  printf 'Subject: e3-8bitmime-flag\n\nbody\n' | $S -B 8BITMIME bob@example.com; sleep 1
  printf 'Subject: e4-7bit-flag\n\ncaf\303\251\n' | $S -B 7BIT bob@example.com; sleep 1
  printf 'Subject: caf\303\251 e5-8bit-header\n\nbody\n' | $S bob@example.com; sleep 1
  printf 'Subject: e8-mime-8bit-cte\nMIME-Version: 1.0\nContent-Transfer-Encoding: 8bit\n\nbody\n' | $S bob@example.com; sleep 1
  printf 'Subject: f1-7bitflag-8bitcte\nMIME-Version: 1.0\nContent-Transfer-Encoding: 8bit\n\nbody\n' | $S -B 7BIT bob@example.com; sleep 1
  printf 'Subject: f2-inner-8bit\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Transfer-Encoding: 8bit\n\nx\n--b--\n' | $S bob@example.com; sleep 1
  printf 'Subject: f3-binary\nMIME-Version: 1.0\nContent-Transfer-Encoding: binary\n\nbody\n' | $S bob@example.com; sleep 1
  printf 'Subject: f4-qp\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\nbody\n' | $S bob@example.com; sleep 1
  printf 'Subject: f5-nomimever\nContent-Transfer-Encoding: 8bit\n\nbody\n' | $S bob@example.com; sleep 1
  printf 'Subject: f6-7bitcte-flag8\nMIME-Version: 1.0\nContent-Transfer-Encoding: 7bit\n\nbody\n' | $S -B 8BITMIME bob@example.com; sleep 1
  printf 'Subject: f7-7bitcte\nMIME-Version: 1.0\nContent-Transfer-Encoding: 7bit\n\nbody\n' | $S bob@example.com; sleep 2
  postfix stop; sleep 1"
mkdir -p "$OUT"
for f in $(find "$G/q/incoming" -type f | sort); do
  echo "=== incoming/ID"; postcat -c "$G/conf" "$f"
done > "$OUT/postcat.txt"
