"""The name a ``.pth`` line written by alpinetags 0.1 imports; the module moved to ``alpinetags._pip.pth``.

A ``.pth`` file outlives the release that wrote it: after an upgrade its line still runs at every start
and imports ``alpinetags._pth.find_pip_module_spec``. Without this module that import would fail, and the
line, which swallows every error so that it can never break Python, would leave pip silently unhooked
until ``alpinetags pip enable`` is run again. One import keeps it working; nothing else may live here.
"""

from alpinetags._pip.pth import find_pip_module_spec as find_pip_module_spec
