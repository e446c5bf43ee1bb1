"""Checkpoints: exact save/load through AutoModel, remote code without signbind_hf, DINOv2 initialisation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch
from transformers import AutoModel, Dinov2Config, Dinov2Model

from signbind_hf import SignBindConfig, SignBindModel

from .conftest import make_batch, tiny_config
from .test_modeling import VARIANTS


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    state_a, state_b = a.state_dict(), b.state_dict()
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        torch.testing.assert_close(state_a[key], state_b[key], rtol=0, atol=0, msg=key)


@pytest.mark.parametrize("variant", VARIANTS)
def test_save_and_auto_load_round_trip_exactly(tmp_path, variant):
    torch.manual_seed(0)
    model = SignBindModel(tiny_config(**VARIANTS[variant])).eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    assert not list(tmp_path.glob("*.bin"))
    assert not list(tmp_path.glob("*.pt"))
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert type(loaded) is SignBindModel
    assert_same_weights(model, loaded)
    batch = make_batch(model.config, labels=False)
    with torch.no_grad():
        torch.testing.assert_close(loaded(**batch).gloss_logits, model(**batch).gloss_logits, rtol=0, atol=0)


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


@pytest.mark.slow
def test_remote_code_loads_where_signbind_hf_cannot_be_imported(tmp_path):
    torch.manual_seed(0)
    model = SignBindModel(tiny_config(fusion_type="cross_attention", lip_shift=4)).eval()
    checkpoint = tmp_path / "checkpoint"
    model.save_pretrained(checkpoint)
    config = json.loads((checkpoint / "config.json").read_text())
    assert config["auto_map"] == {
        "AutoConfig": "configuration_signbind.SignBindConfig",
        "AutoModel": "modeling_signbind.SignBindModel",
    }
    assert {"configuration_signbind.py", "modeling_signbind.py"} <= set(os.listdir(checkpoint))
    batch = make_batch(model.config, labels=False)
    torch.save(batch, tmp_path / "batch.pt")  # our own file, written a line above: safe to load
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", REMOTE_LOAD, str(checkpoint), str(tmp_path / "batch.pt"), str(tmp_path / "out.pt")],
        cwd=tmp_path,  # not the repository root, so signbind_hf is not on sys.path either
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with torch.no_grad():
        expected = model(**batch).gloss_logits
    torch.testing.assert_close(torch.load(tmp_path / "out.pt"), expected, rtol=0, atol=0)


def save_tiny_dinov2(path, **overrides) -> Dinov2Model:
    torch.manual_seed(1)
    config = Dinov2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2, patch_size=8, image_size=32
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    dinov2 = Dinov2Model(config)
    dinov2.save_pretrained(path)
    return dinov2


def test_backbone_initialised_from_a_dinov2_checkpoint(tmp_path):
    dinov2 = save_tiny_dinov2(tmp_path / "dinov2", hidden_size=48, num_attention_heads=3)
    config = SignBindConfig.from_preset("tiny", backbone_name_or_path=str(tmp_path / "dinov2"))
    assert config.backbone_config.hidden_size == 48  # the architecture comes from the checkpoint
    model = SignBindModel(config)
    assert_same_weights(model.manual.backbone, dinov2)

    # The saved model holds the trained backbone; reloading must not go back to the (now gone) DINOv2 folder.
    model.save_pretrained(tmp_path / "model")
    shutil.rmtree(tmp_path / "dinov2")
    assert_same_weights(AutoModel.from_pretrained(tmp_path / "model").manual.backbone, dinov2)


def test_backbone_checkpoint_that_does_not_fit_the_config(tmp_path):
    save_tiny_dinov2(tmp_path / "dinov2", hidden_size=48, num_attention_heads=3)
    config = SignBindConfig.from_preset(
        "tiny", backbone_name_or_path=str(tmp_path / "dinov2"), backbone_config=tiny_config().backbone_config
    )
    with pytest.raises(ValueError, match=r"does not fit config\.backbone_config"):
        SignBindModel(config)
