"""Publishing on the Hugging Face Hub: the model push (``model_push``) and what it shares with the data set push
(``publishing``: card templates, repository and token checks, upload errors).

Never part of a checkpoint's remote code: a saved model needs none of this to load, so it lives in a sub-package, apart
from the flat modules that ship (``tests/test_packaging.py`` checks which do).
"""

from .model_push import push_model, stage_model
from .publishing import HubPushError, card_template

__all__ = ["HubPushError", "card_template", "push_model", "stage_model"]
