# Kept for callers outside test/golden (../../mailbox/postfix_interop.sh):
# the private Postfix instance now lives in ../private_postfix.sh. $0 is the
# sourcing script, which sits inside this checkout.
. "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)/test/golden/private_postfix.sh"
