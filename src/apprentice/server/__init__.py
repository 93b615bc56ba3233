"""The collector service: enrolment, signed uploads of sealed chunks, storage, retention.

Layering: imports core, ``crypto`` and its own subpackages; never ``capture`` or ``client``.
"""

from apprentice.server.app import create_app
from apprentice.server.settings import ServerSettings, load_settings

__all__ = ["ServerSettings", "create_app", "load_settings"]
