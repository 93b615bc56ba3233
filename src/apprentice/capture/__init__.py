"""The endpoint recorder: OS hooks → (policy gate) → stamper → encrypted spool.

Importing this package needs no display: backends are imported when a session starts.
"""

from apprentice.capture.config import CaptureConfig
from apprentice.capture.recorder import Recording, record_until
from apprentice.capture.session import CaptureSession

__all__ = ["CaptureConfig", "CaptureSession", "Recording", "record_until"]
