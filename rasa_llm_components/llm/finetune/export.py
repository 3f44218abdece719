"""Writes the fine-tuned model as a GGUF file that the embedded llama.cpp backend loads.

The new file is the base GGUF file with the LoRA-merged weights swapped in: every metadata key
(architecture, tokenizer, chat template) and every tensor the adapter did not touch are copied
byte for byte; the merged projection matrices are written in `quantization` (Q8_0 by default,
precise enough to keep the small LoRA updates). llama.cpp stores the query and key projections
of llama models with their rows permuted for its rotary embedding, as its converter does;
transformers' GGUF loader undoes that permutation, so it is applied again here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from rasa_llm_components.llm.finetune.training import FineTuneError

QUANTIZATIONS = ("q8_0", "f16", "f32")
# transformers' llama parameter names -> llama.cpp tensor names
_TENSOR_NAMES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
_HF_NAME = re.compile(r"^model\.layers\.(\d+)\.(.+)\.weight$")


def gguf_tensor_name(hf_name: str) -> str | None:
    """`model.layers.3.self_attn.q_proj.weight` -> `blk.3.attn_q.weight` (None: not a
    projection matrix)."""
    match = _HF_NAME.match(hf_name)
    if not match or match.group(2) not in _TENSOR_NAMES:
        return None
    return f"blk.{match.group(1)}.{_TENSOR_NAMES[match.group(2)]}.weight"


def permute_for_rope(weights: np.ndarray, n_head: int) -> np.ndarray:
    """The row order llama.cpp's converter gives query/key matrices (`n_head` = heads of it)."""
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _field_value(reader: Any, key: str) -> Any:
    field = reader.fields.get(key)
    return field.contents() if field is not None else None


def to_gguf_layout(hf_name: str, weights: np.ndarray, reader: Any) -> np.ndarray:
    """A transformers weight matrix in llama.cpp's layout (rows permuted for q and k)."""
    arch = _field_value(reader, "general.architecture")
    if hf_name.endswith("self_attn.q_proj.weight"):
        return permute_for_rope(weights, int(_field_value(reader, f"{arch}.attention.head_count")))
    if hf_name.endswith("self_attn.k_proj.weight"):
        return permute_for_rope(
            weights, int(_field_value(reader, f"{arch}.attention.head_count_kv"))
        )
    return weights


def export_gguf(
    base_gguf: str | os.PathLike,
    weights: dict[str, np.ndarray],
    out_path: str | os.PathLike,
    quantization: str = "q8_0",
) -> Path:
    """Writes `base_gguf` with the projection matrices in `weights` (transformers names, float32)
    replaced; returns the path of the new file."""
    import gguf

    if quantization not in QUANTIZATIONS:
        raise FineTuneError(f"Export 'quantization' must be one of {QUANTIZATIONS}.")
    reader = gguf.GGUFReader(str(base_gguf))
    arch = _field_value(reader, "general.architecture")
    if arch != "llama":
        raise FineTuneError(f"Only llama-architecture GGUF models can be exported, not {arch!r}.")
    replaced: dict[str, np.ndarray] = {}
    for hf_name, matrix in weights.items():
        name = gguf_tensor_name(hf_name)
        if name is None:
            raise FineTuneError(f"Cannot export '{hf_name}': not a projection matrix.")
        replaced[name] = to_gguf_layout(hf_name, np.asarray(matrix, dtype=np.float32), reader)
    missing = set(replaced) - {tensor.name for tensor in reader.tensors}
    if missing:
        raise FineTuneError(f"The base GGUF file has no tensors {sorted(missing)}.")
    qtype = {"q8_0": gguf.GGMLQuantizationType.Q8_0, "f16": gguf.GGMLQuantizationType.F16,
             "f32": gguf.GGMLQuantizationType.F32}[quantization]

    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    writer = gguf.GGUFWriter(str(partial), arch=arch)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), value_type, sub_type=sub_type)
    writer.add_key_value("general.finetune_method", "lora-merged", gguf.GGUFValueType.STRING)
    tensors = []
    for tensor in reader.tensors:
        data, tensor_type = tensor.data, tensor.tensor_type
        if tensor.name in replaced:
            matrix = replaced[tensor.name]
            if quantization == "q8_0":
                data = gguf.quants.quantize(matrix, qtype)
            else:
                data = matrix.astype(np.float16 if quantization == "f16" else np.float32)
            tensor_type = qtype
        tensors.append(data)
        writer.add_tensor_info(tensor.name, data.shape, data.dtype, data.nbytes, tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for data in tensors:
        writer.write_tensor_data(data, tensor_endianess=reader.endianess)
    writer.close()
    os.replace(partial, out)
    return out


def merged_weights(peft_model: Any, layers: list[int]) -> dict[str, np.ndarray]:
    """The LoRA-merged projection matrices (transformers names) of the adapted `layers`."""
    merged = peft_model.merge_and_unload()
    chosen = {str(layer) for layer in layers}
    weights = {}
    for name, tensor in merged.state_dict().items():
        match = _HF_NAME.match(name)
        if match and match.group(1) in chosen and gguf_tensor_name(name) is not None:
            weights[name] = tensor.detach().float().numpy()
    return weights
