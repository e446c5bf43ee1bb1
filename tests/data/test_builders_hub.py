"""push-dataset: the card and file list of a prepared data set, and one-line errors without token or network."""

import json
from pathlib import Path

import pytest
from huggingface_hub import DatasetCard

from signbind_cli.main import main as cli_main
from signbind_hf.data.builders import prepare_folder
from signbind_hf.data.hub import DatasetPushError, dataset_card, files_to_upload, push_dataset

from .builder_fixtures import tiny_video


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hub")
    tiny_video(root / "a.mp4", seconds=1.0)
    manifest = root / "clips.jsonl"
    records = [
        {"path": "a.mp4", "text": "Guten Morgen."},
        {"path": "a.mp4", "text": "Bis bald.", "split": "test"},
        {"path": "gone.mp4", "text": "Fehlt."},
    ]
    manifest.write_text("\n".join(json.dumps(record) for record in records) + "\n")
    prepare_folder(manifest, root / "out", language="de")
    return root / "out"


@pytest.fixture
def no_hub_login(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))  # no stored token
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "hf_home" / "token"))


def test_card_describes_the_prepared_data_set(prepared):
    card = dataset_card(prepared)
    reread = DatasetCard(str(card))  # what the Hub parses
    metadata = reread.data.to_dict()
    assert metadata["language"] == ["de"]
    assert metadata["license"] == "other"
    assert metadata["size_categories"] == ["n<1K"]
    assert metadata["configs"][0]["data_files"] == [
        {"split": "train", "path": "train/*.arrow"},
        {"split": "test", "path": "test/*.arrow"},
    ]
    text = reread.text
    assert "| train | 1 |" in text
    assert "| test | 1 |" in text
    assert "skipped, missing_video: 1" in text
    assert "- phonemes: no" in text
    assert "manifest of clips" in text


def test_files_to_upload(prepared):
    files = files_to_upload(prepared)
    assert {"README.md", "prepare_report.json", "signbind_streams.json", "signbind_source.json"} <= set(files)
    assert {"dataset_dict.json", "train/dataset_info.json", "test/state.json"} <= set(files)
    assert any(name.startswith("train/") and name.endswith(".arrow") for name in files)


def test_not_a_prepared_folder(tmp_path):
    with pytest.raises(DatasetPushError, match=r"not a data set prepared by `signbind prepare` \(no signbind_source"):
        dataset_card(tmp_path)


def test_no_token_is_one_line(prepared, no_hub_login):
    with pytest.raises(DatasetPushError, match=r"^no Hugging Face token: pass --token") as caught:
        push_dataset(prepared, "my-org/data")
    assert "\n" not in str(caught.value)
    with pytest.raises(DatasetPushError, match="--repo-id 'no/such/repo'"):
        push_dataset(prepared, "no/such/repo", token="hf_x")


def test_no_network_is_one_line(prepared, no_hub_login, monkeypatch, tmp_path, capsys, caplog):
    # A port nothing listens on: the real upload path fails at its first request.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(
        DatasetPushError, match=r"^cannot push my-org/data: the Hugging Face Hub is unreachable"
    ) as caught:
        push_dataset(prepared, "my-org/data", token="hf_not_a_real_token")
    assert "\n" not in str(caught.value)
    assert cli_main(["push-dataset", str(prepared), "--repo-id", "my-org/data", "--token", "hf_x"]) == 2
    assert "unreachable" in caplog.text
    assert cli_main(["push-dataset", str(prepared), "--repo-id", "my-org/data", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "would upload to my-org/data:" in printed
    assert "prepare_report.json" in printed
