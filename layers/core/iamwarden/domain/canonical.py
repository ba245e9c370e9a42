"""A policy document's meaning as text, and a short fingerprint of it: the one comparison of documents.

Key order, list order and one-element lists carry no meaning in IAM's JSON, so two documents mean the same when
their ``canonical`` texts are equal. Kept apart from ``documents`` (the decoder) so that what only compares
documents loads nothing else at the cold start.
"""

import hashlib
import json
from typing import Any


def canonical(value: Any) -> str:
    """A statement's meaning as a string: key order, list order and one-element lists don't matter."""

    def normal(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: normal(item[key]) for key in sorted(item)}
        if isinstance(item, list):
            values = [normal(element) for element in item]
            if len(values) == 1:
                return values[0]
            return sorted(values, key=lambda element: json.dumps(element, sort_keys=True))
        return item

    return json.dumps(normal(value), sort_keys=True)


def document_digest(document: Any) -> str:
    """A short fingerprint of a policy document's meaning (``canonical``): enough to tell whether an inline
    policy put again is the one IAM already held, without keeping every document of an account."""
    return hashlib.sha256(canonical(document).encode()).hexdigest()[:24]
