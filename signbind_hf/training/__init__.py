"""Training SignBind-LLM: the staged Trainer runs (experts, then fusion on cached expert outputs), the LLM refiner
(TRL SFT + LoRA), evaluation, the ablations and the CPU quickstart.

Modules here import torch, transformers and TRL at import time; the CLI (`signbind_cli`) imports them only inside its
handlers so that `signbind --help` stays instant.
"""
