"""Phonoglyph's audio analysis engine: pure Python on Essentia and NumPy, no web framework.

Import what you need from its modules: ``engine.features`` (the feature registry),
``engine.decode`` (probing and decoding), ``engine.pipeline`` (``analyze``, which loads
Essentia), ``engine.results`` and ``engine.spotify``. This package imports nothing itself,
so a process that only validates uploads never loads Essentia.
"""
