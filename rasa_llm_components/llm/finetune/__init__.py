"""Fine-tuning the embedded LLM on the bot's knowledge base.

`python -m rasa_llm_components.llm.finetune --knowledge example_bot/knowledge --out DIR` builds a
training set from the knowledge (`questions`, `dataset`: prompts exactly as the runtime builds
them, answers the answer checks keep), trains a LoRA adapter with peft (`training`) and writes
the merged model as GGUF for the llamacpp backend (`export`). Needs `peft` and `gguf`.
"""

from rasa_llm_components.llm.finetune.pipeline import MODEL_FILE, FineTuneSummary, fine_tune
from rasa_llm_components.llm.finetune.training import FineTuneError, TrainSettings

__all__ = ["MODEL_FILE", "FineTuneError", "FineTuneSummary", "TrainSettings", "fine_tune"]
