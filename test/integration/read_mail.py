"""Read an mbox file or a Maildir with Python's mailbox module; print JSON.

Usage: read_mail.py mbox|maildir PATH. Each message: headers, body, the mbox
From_ line or the Maildir file name, and its MIME structure parsed by the
email package (compat32), so that DSNs are checked by a real MIME parser.
"""
import email
import email.policy
import json
import mailbox
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bounce"))
from dsn_parse import headers, part  # noqa: E402  (one MIME walker for both)


def message(raw, extra):
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    body = m.get_payload(decode=False)
    out = {"headers": headers(m), "body": body if isinstance(body, str) else "", "mime": part(m)}
    out.update(extra)
    return out


kind, path = sys.argv[1], sys.argv[2]
msgs = []
if kind == "mbox":
    box = mailbox.mbox(path, create=False)
    for key in box.keys():
        raw = box.get_bytes(key)
        msgs.append(message(raw, {"fromLine": "From " + box[key].get_from()}))
else:
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in sorted(box.keys()):
        raw = box.get_bytes(key)
        sub = box._toc[key]
        msgs.append(message(raw, {"file": sub}))
print(json.dumps(msgs, ensure_ascii=False))
