"""Read an mbox file or a Maildir with Python's mailbox module; print JSON.

Usage: read_mail.py mbox|maildir PATH. Each message: headers, body, the mbox
From_ line or the Maildir file name, and its MIME structure parsed by the
email package (compat32), so that DSNs are checked by a real MIME parser.
"""
import email
import email.policy
import json
import mailbox
import sys


def headers(m):
    return [[k, str(v)] for k, v in m.items()]


def part(m):
    out = {
        "type": m.get_content_type(),
        "params": dict((k.lower(), v) for k, v in m.get_params() or [] if v != ""),
        "headers": headers(m),
        "defects": [type(d).__name__ for d in m.defects],
    }
    if m.is_multipart():
        payload = m.get_payload()
        if m.get_content_type() == "message/delivery-status":
            out["blocks"] = [headers(b) for b in payload]
        elif m.get_content_maintype() == "message":
            out["message"] = part(payload[0])
        else:
            out["parts"] = [part(p) for p in payload]
    else:
        data = m.get_payload(decode=True) or b""
        out["text"] = data.decode("utf-8", "surrogateescape")
    return out


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
