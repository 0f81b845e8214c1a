# Sourced by the golden recorders (test/golden/**/record*.sh,
# test/master/record_postfix.sh, test/mailbox/postfix_interop.sh): a private
# Postfix 3.7 instance under a temp directory $G (root and unshare(1)
# needed). pf_run bind-mounts $G/conf over /etc/postfix inside a private
# mount namespace, so the system's own configuration and instance are never
# touched. Callers edit $G/conf/main.cf and master.cf between sourcing this
# and pf_run; the functions below are the steps they share.
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

# Without qmgr every submission stays in incoming/ (or hold/) for postcat.
pf_no_qmgr() {
  sed -i 's/^qmgr /#qmgr /' "$G/conf/master.cf"
}

# pf_smtpd ADDR:PORT [MAINCF-LINE...]: an smtpd listener for SMTP
# submissions, plus main.cf lines (mynetworks and the like).
pf_smtpd() {
  echo "$1 inet n - n - - smtpd" >> "$G/conf/master.cf"
  shift
  [ $# -eq 0 ] || printf '%s\n' "$@" >> "$G/conf/main.cf"
}

# pf_main LINE...: append parameter settings to the private main.cf.
pf_main() {
  printf '%s\n' "$@" >> "$G/conf/main.cf"
}

# In pf_run's SCRIPT, "python3 $G/smtp.py HOST ehlo:NAME|helo:NAME FROM
# RCPT[,RCPT...] DATA ..." is one SMTP session on port 10025 sending each
# (FROM, RCPTS, DATA) in turn; DATA takes \r\n escapes, and a refused DATA
# prints Postfix's code and text instead of ending the session.
cat > "$G/smtp.py" <<'PY'
import smtplib
import sys

host, greeting, *mail = sys.argv[1:]
verb, name = greeting.split(':', 1)
s = smtplib.SMTP(host, 10025)
s.ehlo(name) if verb == 'ehlo' else s.helo(name)
for i in range(0, len(mail), 3):
    sender, rcpts, data = mail[i:i + 3]
    try:
        s.sendmail(sender, rcpts.split(','), data.encode().decode('unicode_escape'))
    except smtplib.SMTPDataError as e:
        print(e.smtp_code, e.smtp_error.decode())
s.quit()
PY

# pf_run TIMEOUT SETTLE SCRIPT: start the instance, run SCRIPT (shell text,
# already expanded by the caller) in the namespace, give the daemons SETTLE
# seconds, stop. In SCRIPT, "submit ARGS" is sendmail ARGS followed by the
# one-second pause that keeps queue files and log lines in order.
pf_run() {
  TZ=UTC timeout "$1" unshare -m sh -c "
  submit() { sendmail \"\$@\"; sleep 1; }
  mount --bind $G/conf /etc/postfix && postfix start && sleep 2
$3
  sleep $2; postfix stop; sleep 1"
}

# pf_postcat OUT: postcat of every queue file left in incoming/ and hold/,
# in name order, queue IDs hidden, into OUT/postcat.txt.
pf_postcat() {
  mkdir -p "$1"
  : > "$1/postcat.txt"
  for f in $(cd "$G/q" && find incoming hold -type f | sort); do
    echo "=== $f" | sed 's#/[0-9A-F]*$#/ID#' >> "$1/postcat.txt"
    postcat -c "$G/conf" "$G/q/$f" >> "$1/postcat.txt" 2>&1 || true
  done
}

# pf_maillog: the instance's log without the start/stop chatter.
pf_maillog() {
  grep -v 'postfix-script\|master\[' "$G/maillog" || true
}
