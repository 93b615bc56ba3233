"""The embedded default, ``apprentice up``: every part on one machine, in one process.

Layer: edge (like ``cli``, ``web`` and ``demo``); may import anything below. Modules:
:mod:`.layout` (the data and key folders), :mod:`.system` (``EmbeddedSystem``: collector +
portal under uvicorn, the pipeline worker, the local agent), :mod:`.agent_loop` (the
endpoint daemon's loop, shared with ``apprentice agent``). Nothing is imported here, so the
device-side ``apprentice agent`` loads no server code.
"""
