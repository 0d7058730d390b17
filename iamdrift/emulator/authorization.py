"""moto's request authorization, where it differs from IAM's as AWS documents it.

moto authorizes a request by `service:Operation`, the operation's own name. IAM has no
actions for SQS's batch operations: "You cannot set permissions explicitly for
SendMessageBatch, DeleteMessageBatch, or ChangeMessageVisibilityBatch. Instead, setting
permissions for SendMessage, DeleteMessage, or ChangeMessageVisibility sets permissions for
the corresponding batch versions of the actions." (Amazon SQS Developer Guide, "Amazon SQS
batch actions"). The emulator authorizes them by those actions, so the least-privilege
test proves the policy a user deploys. Nothing here is used against real AWS.
"""

from __future__ import annotations

from typing import Any

# The operation's name -> the IAM action that grants it.
GRANTED_BY = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}


def install() -> None:
    """Teach moto's authorization the actions above grant (idempotent)."""
    from moto.iam.access_control import IAMRequestBase

    if getattr(IAMRequestBase, "_iamdrift", False):
        return
    init = IAMRequestBase.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._action = GRANTED_BY.get(self._action, self._action)

    IAMRequestBase.__init__ = __init__
    IAMRequestBase._iamdrift = True
