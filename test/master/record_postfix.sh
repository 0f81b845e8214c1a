#!/usr/bin/env bash
# Records what Postfix's own "postfix" command says (on a terminal: postlog
# shows postfix-script's messages on stderr only then) and its exit status,
# for test/master/postfix.test.ts. Needs root; runs a private Postfix in a
# private mount namespace (test/golden/private_postfix.sh), never
# the system's. Output: test/golden/postfix/<case>.err and .rc, with
# the master pid as <PID>.
#   unshare -m bash test/master/record_postfix.sh
# OUT=dir writes elsewhere (the live test compares that with the goldens);
# STOPPED_ONLY=1 skips the cases with a running Postfix (timing-free, fast).
set -u
OUT=${OUT:-$(cd "$(dirname "$0")/../golden/postfix" && pwd)}
. "$(dirname "$0")/../golden/private_postfix.sh"
mount --bind "$G/conf" /etc/postfix
rec() {
  local name=$1; shift
  script -qec "/usr/sbin/postfix $* 2>&1" /dev/null | tr -d '\r' >"$G/err"
  echo "${PIPESTATUS[0]}" >"$OUT/$name.rc"
  pid=$(sed 1q "$G/q/pid/master.pid" 2>/dev/null | tr -d ' ')
  if [ -n "$pid" ]; then sed "s/PID: $pid\$/PID: <PID>/" "$G/err" >"$OUT/$name.err"; else cp "$G/err" "$OUT/$name.err"; fi
}
rec status-stopped status
rec stop-stopped stop
rec abort-stopped abort
rec reload-stopped reload
rec flush-stopped flush
rec no-command ""
rec bogus-command bogus
rec bad-option -x status
if [ -z "${STOPPED_ONLY:-}" ]; then
rec start start
sleep 1
rec status-running status
rec start-running start
rec reload-running reload
sleep 1
rec stop-running stop
rec status-after-stop status
rec start-again start
sleep 1
rec abort-running abort
sleep 1
rec status-after-abort status
fi
echo "mail_owner = nosuchuser" >>"$G/conf/main.cf"
rec check-bad-owner check
