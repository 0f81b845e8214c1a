#!/bin/sh
# A remote SMTP client (not in local_header_rewrite_clients) sending
# Return-Path:, Content-Length:, Bcc:. Usage: sh record_remote2.sh > remote2/out.txt
set -eu
. "$(dirname "$0")/../private_postfix.sh"
pf_no_qmgr
pf_smtpd 127.0.0.1:10025
pf_main 'local_header_rewrite_clients =' 'mynetworks = 127.0.0.0/8'
pf_run 60 2 "
  python3 $G/smtp.py 127.0.0.1 ehlo:client.example.net s@example.net one@example.com 'Return-Path: <x@y>\r\nContent-Length: 3\r\nBcc: hidden@example.org\r\nSubject: remote2\r\n\r\nbody\r\n'"
for f in $(cd $G/q && find incoming -type f); do postcat -c $G/conf $G/q/$f | sed -n '/MESSAGE CONTENTS/,/HEADER EXTRACTED/p'; done
