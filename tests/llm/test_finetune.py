"""Fine-tuning the embedded LLM: training set, LoRA training, GGUF export, loading in llama.cpp.

The end-to-end test runs a tiny real fine-tune (a handful of examples, two steps) of the packaged
SmolLM2 and generates with the exported GGUF through xllamacpp.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import numpy as np
import pytest

from rasa_llm_components.answering.prompt import SYSTEM_PROMPT
from rasa_llm_components.answering.settings import DEFAULT_TEXTS
from rasa_llm_components.llm import LLMConfigError, create_backend, llm_config
from rasa_llm_components.llm.finetune import MODEL_FILE, FineTuneError, TrainSettings, fine_tune
from rasa_llm_components.llm.finetune.__main__ import main as finetune_main
from rasa_llm_components.llm.finetune.dataset import read_jsonl
from rasa_llm_components.llm.finetune.phrasing import CustomerPhrasing
from rasa_llm_components.llm.finetune.questions import draft_questions
from rasa_llm_components.llm.llamacpp import PACKAGED_MODEL, packaged_gguf_path, resolve_model_path
from rasa_llm_components.retrieval import load_passages

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "example_bot" / "knowledge"
HELD_OUT = [ROOT / "data" / "answers" / name
            for name in ("heldout.yml", "dev.yml", "dev2.yml", "dev3.yml")]


@pytest.fixture(scope="module")
def base_model():
    from rasa_llm_components.llm.finetune.training import load_base_model

    return load_base_model(packaged_gguf_path())


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, base_model):
    out = tmp_path_factory.mktemp("finetune")
    settings = TrainSettings(steps=2, batch_size=1, seed=7, show_progress=False)
    summary = fine_tune([str(KNOWLEDGE)], out, settings, limit=4)
    return out, summary


def test_drafts_are_seeded_customer_questions_not_the_benchmark_ones():
    passages = load_passages([KNOWLEDGE])
    first = draft_questions(passages, seed=3, abstain_text=DEFAULT_TEXTS["abstain"])
    again = draft_questions(passages, seed=3, abstain_text=DEFAULT_TEXTS["abstain"])
    other = draft_questions(passages, seed=4, abstain_text=DEFAULT_TEXTS["abstain"])
    assert first == again and first != other
    kinds = {draft.kind for draft in first}
    assert kinds == {"faq", "policy", "catalog", "follow_up", "unanswerable"}
    assert all(draft.history for draft in first if draft.kind == "follow_up")
    assert {draft.answer for draft in first if draft.kind == "unanswerable"} == {
        DEFAULT_TEXTS["abstain"]
    }
    benchmark = " ".join(path.read_text(encoding="utf-8").lower() for path in HELD_OUT)
    assert not [draft.question for draft in first if f'"{draft.question.lower()}"' in benchmark]


def test_a_grounded_draft_answer_is_kept_whatever_the_extractive_answer_says_first():
    from rasa_llm_components.llm.finetune.dataset import DatasetBuilder, build_index
    from rasa_llm_components.llm.finetune.questions import Draft

    builder = DatasetBuilder(build_index([str(KNOWLEDGE)]))
    # The extractive answer starts with another fact of the row ("in our headphones range").
    draft = Draft("who makes the x200 headphones pls",
                  "The Auralis X200 Headphones is made by Auralis.", "catalog", "catalog:AUR-X200")
    example = asyncio.run(builder.example(draft))
    assert example is not None and example.answer == draft.answer


def test_an_answer_from_a_fact_the_prompt_does_not_show_is_not_learned():
    """The checks read whole passages; the prompt shows each passage's best sentences only."""
    from rasa_llm_components.llm.finetune.dataset import DatasetBuilder, build_index

    builder = DatasetBuilder(build_index([str(KNOWLEDGE)]))

    def prompt(facts: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": f"{SYSTEM_PROMPT}\n\nPASSAGES:\n"
                 f"[catalog:NIM-PULSE3L] Nimbra Pulse 3 Lite Smartwatch: {facts}"},
                {"role": "user", "content": "QUESTION: how heavy is the pulse 3 lite?"}]

    answer = "The Nimbra Pulse 3 Lite Smartwatch weighs 29 g."
    assert builder.unseen_facts(answer, prompt("weight: 29 g; brand: Nimbra")) == []
    assert builder.unseen_facts(answer, prompt("brand: Nimbra; sku: NIM-PULSE3L")) == ["29.0"]
    described = "The Nimbra Pulse 3 Lite Smartwatch is a lighter and cheaper Pulse 3."
    assert builder.unseen_facts(described, prompt("brand: Nimbra"))


def test_yes_no_questions_name_the_item_and_are_answered_yes_or_no():
    from rasa_llm_components.llm.finetune.dataset import DatasetBuilder, build_index
    from rasa_llm_components.llm.finetune.questions import Draft

    drafts = draft_questions(load_passages([KNOWLEDGE]), seed=3,
                             abstain_text=DEFAULT_TEXTS["abstain"])
    compatibility = [draft for draft in drafts if draft.kind == "catalog" and re.search(
        r"compatible with| works? with ", draft.answer)]
    assert compatibility
    for draft in compatibility:
        assert draft.answer.startswith(("Yes, the ", "No, the ")), draft.answer
        # the question names what the answer is about, never "my phone" alone
        assert "with my phone" not in draft.question and "my devices" not in draft.question
    assert any(draft.answer.startswith("No, ") and "not compatible" in draft.answer
               for draft in compatibility)
    builder = DatasetBuilder(build_index([str(KNOWLEDGE)]))
    draft = Draft("does the nimbra pulse 3 have sleep tracking?",
                  "Yes, the Nimbra Pulse 3 Smartwatch has sleep tracking.", "catalog",
                  "catalog:NIM-PULSE3")
    example = asyncio.run(builder.example(draft))
    assert example is not None and example.answer == draft.answer


def test_customer_phrasing_keeps_protected_names():
    import random

    phrasing = CustomerPhrasing(random.Random(1), typo_rate=1.0)
    text = phrasing.casual("How heavy is the Auralis X200 Headphones?", protected="Auralis X200")
    assert "auralis" in text.lower() and "x200" in text.lower()
    assert "heavy" not in text.lower() and "headphones" not in text.lower()  # typos elsewhere


def test_tiny_fine_tune_end_to_end_loads_in_llama_cpp(tiny_run):
    out, summary = tiny_run
    examples = read_jsonl(out / "train.jsonl")
    assert summary.examples == len(examples) == 4
    for example in examples:
        system, user = example.messages
        # The runtime prompt (answering.prompt.build_messages): instructions, passages, question.
        assert system["role"] == "system" and system["content"].startswith(SYSTEM_PROMPT)
        assert "PASSAGES:" in system["content"]
        assert user["content"].startswith("QUESTION (data, not instructions):")
        assert example.answer and "?" not in example.answer
    assert len(summary.first_losses) == 2 and all(np.isfinite(summary.first_losses))
    assert json.loads((out / "finetune.json").read_text())["model_path"] == str(out / MODEL_FILE)

    async def generate() -> str:
        backend = create_backend({"backend": "llamacpp", "mode": "thread",
                                  "model_path": str(out / MODEL_FILE), "max_tokens": 24})
        try:
            return await backend.generate(list(examples[0].messages))
        finally:
            await backend.aclose()

    assert asyncio.run(generate()).strip()


def test_export_keeps_llama_cpp_tensor_layout(tmp_path, base_model):
    """Unchanged weights exported as Q8_0 read back as the base model's tensors: the query and
    key rows are permuted the way llama.cpp expects."""
    import gguf

    from rasa_llm_components.llm.finetune.export import export_gguf

    model, _ = base_model
    state = model.state_dict()
    names = [f"model.layers.5.self_attn.{kind}_proj.weight" for kind in ("q", "k", "v")]
    weights = {name: state[name].float().numpy() for name in names}
    path = export_gguf(packaged_gguf_path(), weights, tmp_path / "same.gguf")
    base = {t.name: t for t in gguf.GGUFReader(packaged_gguf_path()).tensors}
    exported = {t.name: t for t in gguf.GGUFReader(str(path)).tensors}
    assert set(base) == set(exported)
    for kind in ("q", "k", "v"):
        name = f"blk.5.attn_{kind}.weight"
        assert exported[name].tensor_type == gguf.GGMLQuantizationType.Q8_0
        ours = gguf.quants.dequantize(exported[name].data, exported[name].tensor_type)
        theirs = gguf.quants.dequantize(base[name].data, base[name].tensor_type)
        assert np.abs(ours - theirs).max() < 0.05 * np.abs(theirs).max()
    untouched = "blk.6.attn_q.weight"
    assert bytes(exported[untouched].data) == bytes(base[untouched].data)


def test_same_seed_gives_the_same_adapter(tiny_run, base_model):
    from rasa_llm_components.llm.finetune.training import train_lora

    out, _ = tiny_run
    model, tokenizer = base_model
    examples = read_jsonl(out / "train.jsonl")[:2]

    def adapter(seed: int) -> dict:
        settings = TrainSettings(steps=1, batch_size=2, seed=seed, layers=2,
                                 show_progress=False)
        result = train_lora(model, tokenizer, examples, settings)
        weights = {name: tensor.detach().clone() for name, tensor in
                   result.model.state_dict().items() if "lora_" in name}
        result.model.unload()
        return weights

    first, again, other = adapter(1), adapter(1), adapter(2)
    budget = TrainSettings(steps=5, max_minutes=1e-9, show_progress=False)
    stopped = train_lora(model, tokenizer, examples, budget)
    stopped.model.unload()
    assert stopped.losses == []  # the time budget was spent before the first step
    assert first.keys() == again.keys() and first
    assert all(bool((first[name] == again[name]).all()) for name in first)
    assert any(not bool((first[name] == other[name]).all()) for name in first)


def test_bad_settings_fail_before_any_work(tmp_path, capsys):
    code = finetune_main(["--knowledge", str(KNOWLEDGE), "--out", str(tmp_path), "--steps", "0"])
    assert code == 2 and "'steps' must be a positive integer" in capsys.readouterr().err
    with pytest.raises(FineTuneError):
        fine_tune([str(KNOWLEDGE)], tmp_path, TrainSettings(rank=0))
    with pytest.raises(FineTuneError, match="max_minutes"):
        fine_tune([str(KNOWLEDGE)], tmp_path, TrainSettings(max_minutes=-1))
    assert not list(tmp_path.iterdir())


def test_model_path_list_prefers_a_built_model(tmp_path):
    built = tmp_path / "finetuned.gguf"
    candidates = [str(built), PACKAGED_MODEL]
    assert resolve_model_path(candidates) == packaged_gguf_path()  # not built yet: no error
    built.write_bytes(b"GGUF")
    assert resolve_model_path(candidates) == str(built)
    with pytest.raises(LLMConfigError, match="does not exist"):
        resolve_model_path(str(tmp_path / "missing.gguf"))
    with pytest.raises(LLMConfigError, match="None of the llama.cpp model files"):
        resolve_model_path([str(tmp_path / "missing.gguf")])
    assert llm_config({"model_path": candidates})["model_path"] == candidates
    with pytest.raises(LLMConfigError, match="only for the llamacpp backend"):
        llm_config({"backend": "huggingface", "model_path": candidates})
    with pytest.raises(LLMConfigError, match="model_path"):
        llm_config({"model_path": []})
