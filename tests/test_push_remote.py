"""The folder `signbind push --dry-run` writes loads where signbind_hf cannot be imported, as on a Hub user's machine."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import torch

from signbind_hf.hub import stage_model

from .conftest import make_batch
from .test_push import save_model_folder

REMOTE_LOAD = textwrap.dedent(
    """
    import sys
    sys.modules["signbind_hf"] = None  # make `import signbind_hf` fail, as on a machine without the package
    import torch
    from transformers import AutoModel
    model = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
    assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
    batch = torch.load(sys.argv[2])
    with torch.no_grad():
        torch.save(model(**batch).gloss_logits, sys.argv[3])
    """
)


def test_dry_run_folder_loads_with_remote_code_and_gives_the_same_logits(tmp_path):
    model = save_model_folder(tmp_path / "model", ["NOW IVAN SCHOOL", "GOOD MORNING"])
    staged = tmp_path / "hub"
    stage_model(tmp_path / "model", staged, repo_id="my-org/signbind-tiny", datasets=["my-org/data"])
    batch = make_batch(model.config, labels=False)
    torch.save(batch, tmp_path / "batch.pt")  # our own file, written a line above: safe to load
    result = subprocess.run(
        [sys.executable, "-c", REMOTE_LOAD, str(staged), str(tmp_path / "batch.pt"), str(tmp_path / "out.pt")],
        cwd=tmp_path,  # not the repository root, so signbind_hf is not on sys.path either
        env={**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with torch.no_grad():
        expected = model(**batch).gloss_logits
    torch.testing.assert_close(torch.load(tmp_path / "out.pt"), expected, rtol=0, atol=0)
