"""Experiments comparing the two clocks for musl wheel tags: the distro (``alpine_3_x``) and musl
(``musllinux_1_x``), measured on the shipped release data and on real wheels.

Nothing here is imported by the tag machinery; the ``compare`` and ``experiment`` commands load it.
"""
