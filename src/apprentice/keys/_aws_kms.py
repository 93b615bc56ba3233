"""The production master key: a symmetric AWS KMS key, with the two rights split by IAM.

The collector's role may call ``kms:Encrypt`` on the key and the pipeline's role
``kms:Decrypt``; the encryption context (contributor id, key id) is bound by KMS and
appears in CloudTrail, so every unwrap is attributable.

Configured as ``awskms://<key id, alias/NAME or ARN>?region=…&endpoint=…`` (see
``keys/__init__.py``); credentials come from the usual AWS chain, never the URL.

Tested against moto's KMS server only (``tests/unit/server/test_aws_kms.py``: round trip,
wrong contributor or key id, tampering, alias/ARN/region/endpoint in the URL), never against
real KMS, and moto does not enforce IAM: check the Encrypt/Decrypt split and CloudTrail on a
real key before relying on it.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from apprentice.errors import DecryptionError


def _context(contributor_id: str, key_id: str) -> dict[str, str]:
    return {"apprentice:contributor": contributor_id, "apprentice:key_id": key_id}


class AwsKmsWrapper:
    def __init__(self, client: Any, kms_key_id: str) -> None:
        self._client = client
        self._key = kms_key_id

    def wrap(self, secret: bytes, contributor_id: str, key_id: str) -> bytes:
        reply = self._client.encrypt(
            KeyId=self._key, Plaintext=secret, EncryptionContext=_context(contributor_id, key_id)
        )
        blob: bytes = reply["CiphertextBlob"]
        return blob


class AwsKmsUnwrapper:
    def __init__(self, client: Any, kms_key_id: str) -> None:
        self._client = client
        self._key = kms_key_id

    def unwrap(self, wrapped: bytes, contributor_id: str, key_id: str) -> bytes:
        try:
            reply = self._client.decrypt(
                KeyId=self._key,
                CiphertextBlob=wrapped,
                EncryptionContext=_context(contributor_id, key_id),
            )
        except ClientError:
            raise DecryptionError() from None
        secret: bytes = reply["Plaintext"]
        return secret
