"""Data sets for SignBind: builders for real corpora in their released formats and the SynthSign procedural benchmark.

Each builder returns a ``datasets.DatasetDict`` and saves it with ``save_to_disk``; ``synthsign`` generates a
controlled benchmark (``signbind synth``); ``feature_cache`` stores the frozen experts' outputs next to a data set so
that the fusion stage trains without decoding video (``signbind features``).
"""
