"""Signed checkpoints of the audit log, as text that is easy to save, diff and publish.

The format follows the C2SP ``tlog-checkpoint`` and ``signed-note`` specifications, so the
standard tooling of transparency logs can read it::

    apprentice.audit/3f9c0a1b2c3d4e5f          origin: names this log (its random log id)
    1024                                       tree size
    2cc5E8Jx2QK7…=                             root hash, base64
    time 2026-03-01T12:00:00Z                  extension line: when it was signed
                                               blank line, then one line per signature:
    — apprentice-audit AbCdEf…                 em dash, key name, base64(key id ‖ Ed25519 sig)

The signature covers the text above the blank line (with its final newline). The key id is
the first four bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key), and the verifier key
that one publishes is ``name+<key id hex>+<base64(0x01 ‖ public key)>``. Others (a witness)
may add their own signature lines; lines from keys we do not know are kept and ignored.

The signing key is a 32-byte Ed25519 seed in a 0600 key file outside every data folder
(``apprentice.paths.audit_key_file()``); Ed25519 itself stays in ``apprentice.crypto``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from apprentice.audit.merkle import HASH_SIZE
from apprentice.crypto import create_key_file, load_key_file, sign, signing_public_key, verify
from apprentice.errors import CheckpointError, KeyFileError, VerificationError

ORIGIN_PREFIX = "apprentice.audit/"
DEFAULT_KEY_NAME = "apprentice-audit"
_ED25519 = b"\x01"
_DASH = "\u2014 "
_NAME = re.compile(r"[\x21-\x2a\x2c-\x7e]+")  # printable, no space, no '+'
_MAX_NOTE = 64 * 1024


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public_key).digest()[:4]


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A public key to check checkpoint signatures with, and its text form."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def __str__(self) -> str:
        raw = base64.b64encode(_ED25519 + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{raw}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # base64 may itself contain "+"
        if len(parts) != 3 or not _NAME.fullmatch(parts[0]):
            raise CheckpointError("a verifier key looks like NAME+KEYID+BASE64; check what was pasted")
        try:
            raw = base64.b64decode(parts[2], validate=True)
            wanted = bytes.fromhex(parts[1])
        except (binascii.Error, ValueError):
            raise CheckpointError("the verifier key is not valid hex/base64") from None
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise CheckpointError("the verifier key is not an Ed25519 key")
        key = cls(parts[0], raw[1:])
        if key.key_id != wanted:
            raise CheckpointError("the verifier key's id does not match its name and key")
        return key


@dataclass(frozen=True)
class CheckpointSigner:
    """The log's signing key (an Ed25519 seed). Never printed; ``verifier`` is what to share."""

    seed: bytes = field(repr=False)
    name: str = DEFAULT_KEY_NAME

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError("a key name is printable ASCII without spaces or '+'")

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, signing_public_key(self.seed))

    def sign(self, message: bytes) -> bytes:
        return sign(self.seed, message)


def create_signing_key(path: Path, name: str = DEFAULT_KEY_NAME) -> CheckpointSigner:
    """Create a new audit signing key file (0600 in a 0700 folder); refuses to overwrite."""
    return CheckpointSigner(create_key_file(path), name)


def load_signer(path: Path, name: str = DEFAULT_KEY_NAME) -> CheckpointSigner:
    """Load the audit signing key; refuses a missing, malformed or readable-by-others file."""
    if not path.exists():
        raise KeyFileError(
            f"audit signing key {path} not found; create it once with: apprentice audit init-key"
        )
    return CheckpointSigner(load_key_file(path), name)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: log ``origin`` had ``size`` entries with this ``root`` at ``time``."""

    origin: str
    size: int
    root: bytes
    time: datetime
    signatures: tuple[NoteSignature, ...] = ()

    @property
    def log_id(self) -> str:
        return self.origin.removeprefix(ORIGIN_PREFIX)

    def body(self) -> bytes:
        stamp = self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        root = base64.b64encode(self.root).decode()
        return f"{self.origin}\n{self.size}\n{root}\ntime {stamp}\n".encode()

    def text(self) -> str:
        lines = [
            f"{_DASH}{s.name} {base64.b64encode(s.key_id + s.signature).decode()}\n"
            for s in self.signatures
        ]
        return self.body().decode() + "\n" + "".join(lines)

    def signed(self, signer: CheckpointSigner) -> Checkpoint:
        """This checkpoint with ``signer``'s signature added."""
        vkey = signer.verifier
        sig = NoteSignature(vkey.name, vkey.key_id, signer.sign(self.body()))
        return Checkpoint(self.origin, self.size, self.root, self.time, (*self.signatures, sig))

    def verify(self, key: VerifierKey) -> None:
        """Return quietly if ``key`` signed this checkpoint; CheckpointError otherwise."""
        ours = [s for s in self.signatures if s.name == key.name and s.key_id == key.key_id]
        if not ours:
            named = ", ".join(sorted({s.name for s in self.signatures})) or "nobody"
            raise CheckpointError(
                f"the checkpoint is not signed by the audit key {key.name}+{key.key_id.hex()}"
                f" (signed by: {named}); was it made by another log or with another key?"
            )
        try:
            verify(key.public_key, self.body(), ours[0].signature)
        except VerificationError:
            raise CheckpointError("the checkpoint's signature does not verify: its text was changed "
                                  "or it was signed by a different key of the same name") from None

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint's text; CheckpointError says which part is malformed."""
        if len(text) > _MAX_NOTE or not text.endswith("\n"):
            raise CheckpointError("not a checkpoint: it must be a short text ending with a newline")
        split = text.rfind("\n\n")
        if split < 0:
            raise CheckpointError("not a checkpoint: no blank line before the signatures")
        body, sig_text = text[:split + 1], text[split + 2:]
        lines = body.split("\n")[:-1]
        if len(lines) < 4:
            raise CheckpointError("not a checkpoint: expected origin, size, root hash and time lines")
        origin, size_text, root_text, *extensions = lines
        if not origin.startswith(ORIGIN_PREFIX):
            raise CheckpointError(f"not an apprentice audit checkpoint (origin must start {ORIGIN_PREFIX})")
        if not re.fullmatch(r"0|[1-9][0-9]{0,18}", size_text):
            raise CheckpointError("checkpoint line 2 must be the tree size (a decimal number)")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error:
            root = b""
        if len(root) != HASH_SIZE:
            raise CheckpointError("checkpoint line 3 must be a base64 SHA-256 root hash")
        times = [x for x in extensions if x.startswith("time ")]
        try:
            when = datetime.strptime(times[0][5:], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except (IndexError, ValueError):
            raise CheckpointError("checkpoint has no valid 'time YYYY-MM-DDTHH:MM:SSZ' line") from None
        signatures = []
        for line in sig_text.split("\n")[:-1]:
            signatures.append(_parse_signature(line))
        if not signatures:
            raise CheckpointError("the checkpoint carries no signature")
        checkpoint = cls(origin, int(size_text), root, when, tuple(signatures))
        if checkpoint.body().decode() != body:
            raise CheckpointError("checkpoint text is not in canonical form (unknown extension lines?)")
        return checkpoint

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CheckpointError(f"checkpoint file {path} not found") from None
        except UnicodeDecodeError:
            raise CheckpointError(f"{path} is not a checkpoint (not UTF-8 text)") from None
        try:
            return cls.parse(text)
        except CheckpointError as exc:
            raise CheckpointError(f"{path}: {exc}") from None


def _parse_signature(line: str) -> NoteSignature:
    if not line.startswith(_DASH):
        raise CheckpointError("a signature line must start with an em dash and a space")
    name, _, encoded = line[len(_DASH):].partition(" ")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raw = b""
    if not _NAME.fullmatch(name) or len(raw) < 5:  # others (witnesses) may use other types
        raise CheckpointError("a signature line is malformed (expected: — NAME BASE64)")
    return NoteSignature(name, raw[:4], raw[4:])
