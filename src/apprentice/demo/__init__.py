"""A virtual desktop for demos, tests and benchmarks: Xvfb, a window manager, xdotool.

Used by ``apprentice up --demo`` on machines without a desktop, and by the integration
tests and ``bench/``; never by the recorder itself.
"""

from apprentice.demo.xvfb import VirtualDisplay, xdotool

__all__ = ["VirtualDisplay", "xdotool"]
