#!/usr/bin/env bash
# Re-records test/golden/log/postfix-3.7-*.log from a private Postfix 3.7
# instance: temporary config and queue directories, SMTP on 127.0.0.1 at a
# random port, maillog_file in the temporary directory. Needs root (master
# runs services as mail_owner) and python3 for the SMTP client; never touches
# /etc/postfix or the system queue. Queue IDs, pids and times change with
# every recording, so the tests' expected texts must then be updated to match.
# GOLDEN_OUT=dir writes elsewhere (to compare with the committed files).
# Usage: test/log/record-goldens.sh [session|smtpd-cleanup|expired]...
set -euo pipefail
out="${GOLDEN_OUT:-$(cd "$(dirname "$0")/../golden/log" && pwd)}"

instance() { # dir extra-main.cf-lines extra-master.cf-lines
  local P=$1
  rm -rf "$P"; mkdir -p "$P/spool" "$P/data"
  (cd "$P/spool"
   mkdir active bounce corrupt defer deferred flush hold incoming private saved trace pid maildrop public
   chown postfix active bounce corrupt defer deferred flush hold incoming private saved trace
   chmod 700 active bounce corrupt defer deferred flush hold incoming private saved trace
   chown postfix:postdrop maildrop public; chmod 730 maildrop; chmod 710 public)
  chown postfix "$P/data"
  PORT=$((20000 + RANDOM % 20000))
  cat > "$P/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $P/spool
data_directory = $P/data
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file = $P/mail.log
maillog_file_prefixes = $P
myhostname = mx.example.test
mydestination =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
$2
EOF
  cat > "$P/master.cf" <<EOF
127.0.0.1:$PORT inet n - n - - smtpd
pickup    unix  n - n 60  1 pickup
cleanup   unix  n - n -   0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -   - trivial-rewrite
bounce    unix  - - n -   0 bounce
defer     unix  - - n -   0 bounce
trace     unix  - - n -   0 bounce
verify    unix  - - n -   1 verify
proxymap  unix  - - n -   - proxymap
smtp      unix  - - n -   - smtp
showq     unix  n - n -   - showq
error     unix  - - n -   - error
discard   unix  - - n -   - discard
anvil     unix  - - n -   1 anvil
scache    unix  - - n -   1 scache
postlog   unix-dgram n - n - 1 postlogd
$3
EOF
  setsid /usr/lib/postfix/sbin/master -c "$P" -d >"$P/master.out" 2>&1 &
  MASTER=$!
  for _ in $(seq 50); do ss -ltn | grep -q "127.0.0.1:$PORT " && break; sleep 0.1; done
}

finish() { # dir golden-name
  /usr/sbin/postfix -c "$1" stop >/dev/null 2>&1 || true
  sleep 1
  kill "$MASTER" 2>/dev/null || true
  grep -v -e 'postfix-script' -e 'terminating on signal' "$1/mail.log" >"$out/$2"
  rm -rf "$1"
}

session() {
  local P=/tmp/postroom-golden-session
  instance $P 'relay_domains = d.test b.test x.test
transport_maps = inline:{ {d.test=discard:}, {b.test=error:5.1.1 no such user}, {x.test=smtp:[127.0.0.1]:1} }
smtp_connect_timeout = 2s' ''
  python3 - "$PORT" <<'EOF'
import smtplib, socket, sys
port = int(sys.argv[1])
s = smtplib.SMTP('127.0.0.1', port); s.ehlo('client.example')
s.sendmail('sender@d.test', ['a@d.test', 'bu@b.test', 'c@x.test'], 'Subject: t\r\nMessage-ID: <m1@client.example>\r\n\r\nhello\r\n')
try: s.sendmail('sender@d.test', ['z@nowhere.test'], 'Subject: t\r\n\r\nx\r\n')
except smtplib.SMTPException: pass
s.quit()
c = socket.create_connection(('127.0.0.1', port)); c.recv(100); c.close()
EOF
  sleep 5
  printf 'Subject: local\n\nbody\n' | /usr/sbin/sendmail -C $P -f root a@d.test
  sleep 8; /usr/sbin/postqueue -c $P -f; sleep 3; /usr/sbin/postsuper -c $P -d ALL; sleep 1
  finish $P postfix-3.7-session.log
}

smtpd_cleanup() {
  local P=/tmp/postroom-golden-cleanup
  instance $P "relay_domains = d.test
transport_maps = inline:{ {d.test=discard:} }
header_checks = regexp:$P/header_checks
smtpd_timeout = 2s
smtpd_hard_error_limit = 2
smtpd_soft_error_limit = 1
smtpd_error_sleep_time = 0" ''
  printf '/^Subject: .*spam/ REJECT no spam here\n/^Subject: .*hold/ HOLD\n/^Subject: .*warn/ WARN\n/^Subject: .*drop/ DISCARD\n' >$P/header_checks
  python3 - "$PORT" <<'EOF'
import smtplib, socket, sys, time
port = int(sys.argv[1])
for subj in ['buy spam', 'please hold', 'warn me', 'drop it']:
    s = smtplib.SMTP('127.0.0.1', port); s.ehlo('client.example')
    try: s.sendmail('sender@d.test', ['a@d.test'], 'Subject: %s\r\n\r\nhello\r\n' % subj)
    except smtplib.SMTPException: pass
    s.quit()
def dialog():
    c = socket.create_connection(('127.0.0.1', port)); f = c.makefile('rb'); f.readline()
    def cmd(x):
        c.sendall(x + b'\r\n')
        while True:
            l = f.readline()
            if l[3:4] != b'-': return l
    return c, cmd
c, cmd = dialog(); cmd(b'EHLO c'); cmd(b'MAIL FROM:<s@d.test>'); cmd(b'RCPT TO:<a@d.test>'); cmd(b'DATA')
c.sendall(b'Subject: x\r\n\r\n12345\r\n'); time.sleep(0.3); c.close()
c, cmd = dialog(); cmd(b'HELO c'); cmd(b'MAIL FROM:<s@d.test>'); time.sleep(3); c.close()
c, cmd = dialog(); cmd(b'BOGUS'); cmd(b'BOGUS'); cmd(b'BOGUS'); c.close()
EOF
  sleep 3
  finish $P postfix-3.7-smtpd-cleanup.log
}

expired() {
  local P=/tmp/postroom-golden-expired
  instance $P 'relay_domains = d.test x.test
transport_maps = inline:{ {d.test=discard:}, {x.test=smtp:[127.0.0.1]:1} }
maximal_queue_lifetime = 1s
bounce_queue_lifetime = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 1s
queue_run_delay = 1s' 'flush unix n - n 1000? 0 flush'
  python3 -c "
import smtplib; s = smtplib.SMTP('127.0.0.1', $PORT)
s.sendmail('sender@d.test', ['c@x.test'], 'Subject: t\r\n\r\nx\r\n'); s.quit()"
  sleep 4; /usr/sbin/postqueue -c $P -f; sleep 4
  finish $P postfix-3.7-expired.log
}

for what in "${@:-session smtpd-cleanup expired}"; do
  for w in $what; do
    case $w in
      session) session ;;
      smtpd-cleanup) smtpd_cleanup ;;
      expired) expired ;;
      *) echo "usage: $0 [session|smtpd-cleanup|expired]..." >&2; exit 2 ;;
    esac
  done
done
