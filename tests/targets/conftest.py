"""A tiny local "LLM" whose greedy output is scripted, to test the LLM glosser's plumbing without the Hub.

It is a real ``LlamaForCausalLM`` with a real byte-level BPE tokenizer trained here, saved with ``save_pretrained``
and loaded back by the glosser through the Auto classes. Its weights make the next token a function of the current
token only: embeddings are one-hot, attention and MLP outputs are zero (so each layer passes its input through), and
``lm_head`` holds a transition table. The prompt's last token starts the scripted completion; every token without a
scripted successor goes to end-of-sequence. So the output is known exactly, whatever the batch, padding or prompt.
"""

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from signbind_hf.targets.llm_glosser import DEFAULT_EXAMPLES, DEFAULT_INSTRUCTION

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIAL_TOKENS = ["</s>", "<s>", "<|system|>", "<|user|>", "<|assistant|>"]


def _train_tokenizer(completions: list[str]) -> PreTrainedTokenizerFast:
    # The completions weigh more than the prompt, so their words become whole tokens (a script needs distinct ones).
    prompt = [DEFAULT_INSTRUCTION, *(f"English: {s}\nGloss: {g}\n\n" for s, g in DEFAULT_EXAMPLES)]
    corpus = prompt * 3 + completions * 20
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=360, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(corpus, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>")


def _scripted_llama(tokenizer: PreTrainedTokenizerFast, start_token: int, completion: str) -> LlamaForCausalLM:
    vocab_size = len(tokenizer)
    script = [start_token, *tokenizer.encode(completion, add_special_tokens=False)]
    assert len(set(script)) == len(script), f"a scripted completion needs distinct tokens: {script}"
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=vocab_size,  # one-hot embeddings
        intermediate_size=4,
        num_hidden_layers=1,
        num_attention_heads=1,
        num_key_value_heads=1,
        head_dim=8,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        model.model.embed_tokens.weight.copy_(torch.eye(vocab_size))
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        transitions = torch.zeros(vocab_size, vocab_size)
        transitions[tokenizer.eos_token_id, :] = 0.5  # by default, stop
        for current, following in itertools.pairwise(script):
            transitions[following, current] = 1.0
        model.lm_head.weight.copy_(transitions)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


@pytest.fixture
def make_scripted_model(tmp_path: Path) -> Callable[..., Path]:
    """``make_scripted_model(completion, chat=False)`` saves a model that answers every glossing prompt with
    ``completion`` (tokens must be distinct) and returns its folder."""

    def make(completion: str, chat: bool = False, name: str = "model") -> Path:
        tokenizer = _train_tokenizer([completion])
        if chat:
            tokenizer.chat_template = CHAT_TEMPLATE
            start_token = tokenizer.convert_tokens_to_ids("<|assistant|>")
        else:
            start_token = tokenizer.encode("Gloss:", add_special_tokens=False)[-1]
        folder = tmp_path / name
        tokenizer.save_pretrained(folder)
        _scripted_llama(tokenizer, start_token, completion).save_pretrained(folder)
        return folder

    return make
