"""The one exception tree of apprentice. Messages say what went wrong and what to do next,
and never contain captured content or key material.

    ApprenticeError
    ├── ConfigError            bad settings, unknown backend, unsupported platform
    │   ├── UnsupportedPlatform   e.g. a Wayland session, which cannot be recorded safely
    │   ├── PolicyError           a capture policy file that must not be used (file:line: fix)
    │   └── PolicyLoadError       authorisation policies that must not be used (file: policy: why)
    ├── ConsentError           no valid consent to the current notice; capture stays off
    ├── KeyFileError           a key is missing, malformed, or readable by others
    ├── DecryptionError        wrong key or tampered ciphertext (no detail, on purpose)
    ├── VerificationError      a signature did not verify (no detail, on purpose)
    ├── MalformedChunk         bytes that are not a well-formed sealed chunk
    ├── SpoolError             the spool folder cannot be opened or written
    │   └── CorruptRecord      one record failed its checks; the others are still readable
    ├── CaptureError           a capture backend failed to start or died
    ├── AuditError             the audit log cannot be written, read or checked as asked
    │   └── CheckpointError       a checkpoint is malformed, for another log, or not signed by the key
    └── UploadError            the collector could not be reached or refused a request
        └── UploadRejected        a permanent refusal (4xx); retrying will not help
"""

from __future__ import annotations


class ApprenticeError(Exception):
    """Root of every error apprentice raises on purpose."""


class ConfigError(ApprenticeError):
    """The configuration or environment cannot be used as given."""


class ExposureRefused(ConfigError):
    """The exposure guard refused this deployment; ``lines`` name each problem and its fix."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("refusing to start: this deployment would expose data (see above)")
        self.lines = lines


class UnsupportedPlatform(ConfigError):
    """This desktop session cannot be recorded (the message explains why and what to do)."""


class PolicyError(ConfigError):
    """A capture policy file cannot be used. The agent must not record with it."""

    def __init__(self, source: str, line: int | None, what: str) -> None:
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {what}")
        self.source = source
        self.line = line
        self.what = what


class PolicyLoadError(ConfigError):
    """The Cedar authorisation policies cannot be used (unparsable, invalid against the schema,
    or too broad, e.g. a permit for every principal). The service must not start with them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("authorisation policies refused: " + "; ".join(problems))
        self.problems = problems


class ConsentError(ApprenticeError):
    """The notice or the consent record is missing or outdated; capture stays off."""


class KeyFileError(ApprenticeError):
    """A key file is missing, malformed or not protected (0600, owned by us)."""


class DecryptionError(ApprenticeError):
    """Ciphertext did not authenticate: wrong key, wrong context, or tampering."""

    def __init__(self, message: str = "ciphertext did not authenticate") -> None:
        super().__init__(message)


class SpoolError(ApprenticeError):
    """The spool cannot be opened, read or written."""


class CorruptRecord(SpoolError):
    """One spool record is damaged; readers skip it and carry on."""

    def __init__(self, segment: str, offset: int, why: str) -> None:
        super().__init__(f"{segment} @ byte {offset}: {why}")
        self.segment = segment
        self.offset = offset
        self.why = why


class CaptureError(ApprenticeError):
    """A capture backend could not start or stopped working."""


class AuditError(ApprenticeError):
    """The audit log cannot be written, read or checked as asked (the message says why)."""


class CheckpointError(AuditError):
    """A checkpoint is malformed, belongs to another log, or its signature does not verify."""


class VerificationError(ApprenticeError):
    """A signature did not verify: wrong key, changed message, or forgery."""

    def __init__(self, message: str = "signature did not verify") -> None:
        super().__init__(message)


class MalformedChunk(ApprenticeError):
    """Bytes that are not a well-formed sealed chunk (the message says which check failed)."""


class UploadError(ApprenticeError):
    """The collector could not be reached, or kept failing after every retry."""


class UploadRejected(UploadError):
    """The collector refused a request for good (4xx); the message carries its reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"collector refused the request ({status}): {message}")
        self.status = status


class PipelineError(ApprenticeError):
    """The processing pipeline could not do what was asked (the message says what to do)."""


class SourceError(PipelineError):
    """The collector's pipeline API could not be read (unreachable, refused, malformed)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DatasetError(PipelineError):
    """A dataset version cannot be built or exported as asked (tombstoned data, bad filter)."""
