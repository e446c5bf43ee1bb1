"""The quickstart end to end on a mini SynthSign, and the evaluation and ablation reports it is made of."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from signbind_hf.training.evaluation import DecodedSplit, glosses_as_text, score_split, stream_table
from tests.training.conftest import TEST_MAX_FRAMES

RESULT_KEYS = {
    "bleu1", "bleu4", "rouge_l", "gloss_wer", "homonym_accuracy", "letter_accuracy", "phoneme_error_rate",
    "sacrebleu_signature",
}  # fmt: skip
QUICKSTART_ABLATIONS = {"full", "no_lip", "no_fingerspelling", "no_fusion", "no_llm", "lip_shift_none"}


def few_steps(*extra: str) -> list[str]:
    return [
        "--num_train_epochs", "1", "--per_device_train_batch_size", "4", "--eval_strategy", "no",
        "--save_strategy", "no", "--logging_steps", "1", "--warmup_steps", "0", "--max_frames", str(TEST_MAX_FRAMES),
        "--dataloader_num_workers", "0", *extra,
    ]  # fmt: skip


TINY_REFINER = {
    "epochs": 1,
    "small_llm_hidden_size": 32,
    "small_llm_num_layers": 1,
    "small_llm_num_heads": 2,
    "small_llm_intermediate_size": 64,
    "small_llm_pretrain_epochs": 1,
    "small_llm_vocab_size": 300,
}


@pytest.fixture(scope="module")
def quickstart_run(mini_synthsign, tmp_path_factory) -> tuple[Path, dict]:
    from signbind_hf.training.quickstart import QuickstartSettings, run_quickstart

    out = tmp_path_factory.mktemp("quickstart")
    shutil.copytree(mini_synthsign, out / "data")  # the quickstart caches clips and features inside its data folder
    settings = QuickstartSettings(
        num_train=8, num_validation=4, num_test=4, experts_training=few_steps(), fusion_training=few_steps(),
        refiner=TINY_REFINER,
    )  # fmt: skip
    return out, run_quickstart(out, settings)


@pytest.mark.slow
def test_quickstart_writes_results_with_the_public_keys(quickstart_run):
    out, results = quickstart_run
    written = json.loads((out / "results.json").read_text())
    assert set(written["test"]) >= RESULT_KEYS
    assert set(written["ablations"]) == QUICKSTART_ABLATIONS
    for name, row in written["ablations"].items():
        assert set(row) >= RESULT_KEYS, name
        assert {"train_steps", "train_seconds"} <= set(row), name
    assert written["test"]["sacrebleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:")
    assert written["test"] == results["test"]
    assert "## Ablations" in (out / "results.md").read_text()
    assert written["settings"]["beam_width"] == 8  # how the scores were decoded is part of the record
    # Two cores: the refiner trained beside the experts, the ablation variants beside the fusion; nothing left over.
    assert written["settings"]["num_workers"] == min(2, os.cpu_count() or 1)
    side_by_side = {"training", "experts", "fusion", "refiner", "ablation variants", "evaluation", "ablation table"}
    one_after_another = {"experts", "fusion", "refiner", "evaluation", "ablations"}
    assert set(written["seconds"]) - {"data", "total"} == (side_by_side if os.cpu_count() > 1 else one_after_another)
    assert not (out / ".refiner-stage").exists()
    model_config = json.loads((out / "model" / "config.json").read_text())
    assert model_config["center_frames"] is True  # the from-scratch settings reach the trained model
    assert model_config["manual_temporal_kernel_size"] == 5
    assert model_config["ctc_beam_width"] == 8  # the model decodes as it was scored


@pytest.mark.slow
def test_quickstart_on_one_core_runs_the_stages_one_after_the_other(mini_synthsign, tmp_path):
    from signbind_hf.refiner import has_refiner
    from signbind_hf.training.quickstart import QuickstartSettings, run_quickstart

    shutil.copytree(mini_synthsign, tmp_path / "data")
    settings = QuickstartSettings(
        num_train=8, num_validation=4, num_test=4, experts_training=few_steps(), fusion_training=few_steps(),
        refiner=TINY_REFINER, variants=("full", "no_lip", "no_llm"), num_workers=1,
    )  # fmt: skip
    results = run_quickstart(tmp_path, settings)
    assert list(results["ablations"]) == ["full", "no_lip", "no_llm"]
    assert results["ablations"]["no_lip"]["train_steps"] > 0
    assert results["ablations"]["no_lip"]["phoneme_error_rate"] is None
    assert set(results["seconds"]) == {"data", "experts", "fusion", "refiner", "evaluation", "ablations", "total"}
    assert has_refiner(tmp_path / "model")


def test_quickstart_ablations_are_what_they_say(quickstart_run):
    _, results = quickstart_run
    rows = results["ablations"]
    # Without the LLM or the fusion, the system translates from another stream of the same decoding pass.
    assert rows["no_fusion"]["gloss_wer"] == pytest.approx(rows["full"]["sign_wer"])
    assert rows["no_llm"]["gloss_wer"] == pytest.approx(rows["full"]["gloss_wer"])
    assert rows["no_fusion"]["train_steps"] == rows["no_llm"]["train_steps"] == 0
    # The retrained variants lack the stream they ablate.
    assert rows["no_lip"]["phoneme_error_rate"] is None
    assert rows["no_fingerspelling"]["letter_accuracy"] is None
    assert rows["lip_shift_none"]["train_steps"] > 0


def test_quickstart_model_folder_loads_with_the_auto_classes(quickstart_run):
    from transformers import AutoModel, AutoProcessor

    from signbind_hf import SignBindModel, SignBindProcessor
    from signbind_hf.refiner import has_refiner

    out, _ = quickstart_run
    model_dir = out / "model"
    assert isinstance(AutoModel.from_pretrained(model_dir), SignBindModel)
    assert isinstance(AutoProcessor.from_pretrained(model_dir), SignBindProcessor)
    assert has_refiner(model_dir)


def test_quickstart_model_translates_through_the_pipeline(quickstart_run):
    from transformers import pipeline

    out, _ = quickstart_run
    clip = sorted((out / "data" / "videos").rglob("*.mp4"))[0]
    translator = pipeline("sign-language-translation", model=str(out / "model"))
    assert translator.refiner is not None
    result = translator(str(clip))
    # The test model reads at most 32 frames at a time: a longer clip comes back as one result per window.
    for part in result if isinstance(result, list) else [result]:
        assert part["refined"] is bool(part["pseudo_gloss"])  # an empty pseudo-gloss has nothing to refine
        assert isinstance(part["translation"], str)
        assert set(part) >= {"pseudo_gloss", "fingerspelling", "phonemes", "segments", "gate"}


def test_evaluate_command_writes_results_json(quickstart_run, tmp_path):
    from signbind_cli.main import main

    out, results = quickstart_run
    assert main(["evaluate", "--model", str(out / "model"), "--data", str(out / "data"), "--out", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["test"]["gloss_wer"] == pytest.approx(results["test"]["gloss_wer"])


@pytest.mark.slow
def test_ablate_command_trains_variants_in_two_processes(quickstart_run, tmp_path):
    from signbind_cli.main import main

    out, results = quickstart_run
    argv = [
        "ablate", "--data", str(out / "data"), "--experts", str(out / "experts"), "--model", str(out / "model"),
        "--out", str(tmp_path), "--variants", "full", "no_lip", "lip_shift_5", "--num-workers", "2",
        "--fusion-args", *few_steps(),
    ]  # fmt: skip
    assert main(argv) == 0
    rows = json.loads((tmp_path / "ablations.json").read_text())["ablations"]
    assert list(rows) == ["full", "no_lip", "lip_shift_5"]
    assert rows["full"]["gloss_wer"] == pytest.approx(results["ablations"]["full"]["gloss_wer"])
    assert rows["no_lip"]["phoneme_error_rate"] is None
    assert rows["lip_shift_5"]["phoneme_error_rate"] is not None
    for variant in ("no_lip", "lip_shift_5"):
        assert rows[variant]["train_steps"] > 0
        assert (tmp_path / variant / "config.json").is_file()
    assert json.loads((tmp_path / "lip_shift_5" / "config.json").read_text())["lip_shift"] == 5


def test_evaluate_command_names_a_folder_that_is_not_a_model(mini_synthsign, tmp_path, caplog):
    from signbind_cli.main import main

    assert (
        main(["evaluate", "--model", str(tmp_path), "--data", str(mini_synthsign), "--out", str(tmp_path / "o")]) == 2
    )
    assert "not a model folder" in caplog.text
    assert not (tmp_path / "o").exists()


def decoded_split() -> DecodedSplit:
    """Two clips: the first with a homonym (WATER/MILK) and a fingerspelled name, the second with neither."""
    decoded = DecodedSplit(
        ids=["a", "b"],
        sentences=["Ivan drinks water.", "I am happy."],
        pseudo_glosses=["IVAN DRINK WATER", "ME HAPPY"],
        letters=["I V A N", ""],
        phonemes=["ay v ah n", "m iy"],
        names={"IVAN"},
    )
    decoded.decoded = {
        "sign": ["IVAN DRINK MILK", "ME HAPPY"],  # the manual sign alone confuses the homonyms
        "gloss": ["IVAN DRINK WATER", "ME SAD"],
        "fingerspelling": ["IVAM", ""],
        "phoneme": ["ay v ah n", "m iy"],
    }
    return decoded


def test_score_split_against_hand_computed_values():
    scores = score_split(decoded_split(), ["Ivan drinks water.", "I am sad."], homonyms={"WATER", "MILK"})
    # Fused: 1 substitution (HAPPY -> SAD) over 5 reference words; sign: 1 (WATER -> MILK) over 5.
    assert scores["gloss_wer"] == pytest.approx(20.0)
    assert scores["sign_wer"] == pytest.approx(20.0)
    assert scores["homonym_accuracy"] == pytest.approx(100.0)  # WATER read right by the fusion
    assert scores["name_accuracy"] == pytest.approx(100.0)
    # Letters only on the clip that has them: IVAM vs IVAN, 1 substitution over 4 characters.
    assert scores["letter_accuracy"] == pytest.approx(75.0)
    assert scores["phoneme_error_rate"] == pytest.approx(0.0)
    assert scores["num_clips"] == 2


def test_score_split_of_the_sign_stream_sees_the_homonym_error():
    scores = score_split(decoded_split(), ["Ivan drinks milk.", "I am happy."], {"WATER", "MILK"}, gloss_stream="sign")
    assert scores["homonym_accuracy"] == pytest.approx(0.0)
    assert scores["gloss_wer"] == pytest.approx(20.0)


def test_stream_table_has_one_row_per_stream():
    table = stream_table(decoded_split(), ["Ivan drinks water.", "I am sad."], homonyms=None)
    assert list(table) == ["sign expert", "fingerspelling expert", "lip expert", "fused pseudo-gloss", "final English"]
    assert table["fingerspelling expert"]["letter_accuracy"] == pytest.approx(75.0)


def test_glosses_as_text_lower_cases():
    assert glosses_as_text(["IVAN DRINK WATER", ""]) == ["ivan drink water", ""]


def test_variant_scheduler_keeps_one_process_per_core():
    """Beside the full model's fusion one variant trains; the next starts as soon as a core frees, not per round."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from signbind_hf.training.quickstart import _VariantScheduler

    release = {name: threading.Event() for name in ("no_lip", "no_fingerspelling", "lip_shift_none")}
    started: list[str] = []
    with ThreadPoolExecutor(3) as pool:  # more workers than cores: only the scheduler may hold jobs back

        def submit(names):
            started.extend(names)
            return {name: pool.submit(release[name].wait, 10) for name in names}

        scheduler = _VariantScheduler(list(release), submit, cores=2)
        scheduler.on_train_begin(None, None, None)
        scheduler.on_step_end(None, None, None)
        assert started == ["no_lip"]  # the fusion in this process holds the other core
        release["no_lip"].set()
        scheduler.futures["no_lip"].result(timeout=10)
        scheduler.on_step_end(None, None, None)
        assert started == ["no_lip", "no_fingerspelling"]  # a core freed while the fusion still trains
        futures = scheduler.finish()  # the fusion is done: its core goes to the next variant at once
        assert started == ["no_lip", "no_fingerspelling", "lip_shift_none"]
        assert not futures["no_fingerspelling"].done()
        release["no_fingerspelling"].set()
        release["lip_shift_none"].set()
        assert set(futures) == set(release)
        assert all(future.result(timeout=10) for future in futures.values())


def test_variant_scheduler_cancel_pending_starts_nothing_more():
    from concurrent.futures import Future

    from signbind_hf.training.quickstart import _VariantScheduler

    running = Future()
    scheduler = _VariantScheduler(["no_lip", "lip_shift_none"], lambda names: {names[0]: running}, cores=2)
    scheduler.on_train_begin(None, None, None)
    scheduler.cancel_pending()
    assert scheduler.pending == []
    assert running.cancelled()
    assert scheduler.finish() == {"no_lip": running}
