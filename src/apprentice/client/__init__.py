"""The device's side of the collector: enrolment, signed uploads, and the spool uploader.

Layering: imports core, ``crypto``, ``policy`` and ``spool``; never ``server`` or ``capture``. httpx
lives here and nowhere else on the device side.
"""

from apprentice.client.agent import SpoolUploader, UploadStats
from apprentice.client.enrol import enroll
from apprentice.client.identity import DeviceIdentity, default_identity_dir, load_identity
from apprentice.client.sync import DeviceSync, StateFiles, SyncOutcome
from apprentice.client.uploader import DeviceSigner, Uploader
from apprentice.spool.payload import decode_payload, payload_events, payload_frames

__all__ = [
    "DeviceIdentity",
    "DeviceSigner",
    "DeviceSync",
    "SpoolUploader",
    "StateFiles",
    "SyncOutcome",
    "UploadStats",
    "Uploader",
    "decode_payload",
    "default_identity_dir",
    "enroll",
    "load_identity",
    "payload_events",
    "payload_frames",
]
