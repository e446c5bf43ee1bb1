"""SynthSign: a procedural sign-language benchmark that needs every expert of SignBind-LLM, deterministic by seed.

A rendered 2-D signer signs English sentences through their pseudo-gloss: lexical signs from a fixed lexicon (some
of them manual homonyms that only the mouthing tells apart), fingerspelled names, mouthing shifted against the hands
by a per-clip offset, and rest between signs. ``generate_synthsign`` writes mp4 clips, per-frame segment labels and
face boxes, and a ``datasets.DatasetDict`` with a card; ``signbind synth`` is its command line.

Example:

```python
>>> from signbind_hf.data.synthsign import generate_synthsign
>>> synthsign = generate_synthsign("data/synthsign", seed=0, num_train=200, num_validation=50, num_test=50)
>>> synthsign["train"][0]["pseudo_gloss"]
```
"""

from .builder import (
    DEFAULT_NUM_TEST,
    DEFAULT_NUM_TRAIN,
    DEFAULT_NUM_VALIDATION,
    SETTINGS_FILE,
    generate_synthsign,
    synthsign_features,
)
from .config import SPLITS, SYNTHSIGN_VERSION, SynthSignConfig
from .lexicon import GLOSSES, HOMONYM_GROUPS, ManualSign, lexicon, manual_sign

__all__ = [
    "DEFAULT_NUM_TEST",
    "DEFAULT_NUM_TRAIN",
    "DEFAULT_NUM_VALIDATION",
    "GLOSSES",
    "HOMONYM_GROUPS",
    "SETTINGS_FILE",
    "SPLITS",
    "SYNTHSIGN_VERSION",
    "ManualSign",
    "SynthSignConfig",
    "generate_synthsign",
    "lexicon",
    "manual_sign",
    "synthsign_features",
]
