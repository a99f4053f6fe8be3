"""Generation with HF `transformers` on CPU or one GPU: for small models, debugging, and
checkpoints straight out of training, with nothing to serve.

    gen = HFGenerator("runs/sft/checkpoint-final", device="cuda", batch_size=16)
    outs = gen.generate(prompts, Sampling(n=4, temperature=0.8, stop=["```\\n"]))

Prompts are batched with left padding (decoder-only models continue from the right edge).
Chat-message prompts are rendered with the tokenizer's chat template when it has one.
Stop strings end generation early and are cut from the output (the stop string itself too).
"""

from __future__ import annotations

import threading

from theoremllama.config import check_model_source
from theoremllama.errors import UserError
from theoremllama.llm.base import Generator, Prompt, Sampling, Usage


def _truncate_at_stop(text: str, stop: list[str]) -> str:
    cut = len(text)
    for s in stop:
        i = text.find(s) if s else -1
        if i >= 0:
            cut = min(cut, i)
    return text[:cut]


class HFGenerator(Generator):
    """A local `transformers` causal LM as a `Generator`.

    Args:
        model: directory or hub id of a causal LM (hub ids need network access), or a loaded model.
        tokenizer: its tokenizer (directory, id or object); default: the model's.
        device: `auto` (CUDA if available, else CPU), `cpu`, `cuda`, `cuda:1`, ...
        dtype: `auto` (bfloat16 on a GPU that supports it, float32 on CPU), `float32`, `bfloat16`, `float16`.
        batch_size: most sequences (prompts x n samples) generated in one forward batch.
    """

    def __init__(self, model, tokenizer=None, device: str = "auto", dtype: str = "auto",
                 batch_size: int = 8, *, trust_remote_code: bool = False):
        check_model_source(model, "hf backend: model")  # not a minute of hub retries for a typo
        check_model_source(tokenizer, "hf backend: tokenizer")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if dtype == "auto":
            dtype = "bfloat16" if device.startswith("cuda") and torch.cuda.is_bf16_supported() else "float32"
        try:
            torch_dtype = getattr(torch, dtype)
        except AttributeError:
            raise UserError(f"hf backend: unknown dtype {dtype!r}") from None
        self.torch = torch
        self.device = device
        self.batch_size = max(1, int(batch_size))
        self.usage = Usage()
        self._model_lock = threading.Lock()  # one generate at a time: the model is not thread-safe
        try:
            if isinstance(model, str):
                self.model = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype,
                                                                  trust_remote_code=trust_remote_code)
            else:
                self.model = model
            tok_source = tokenizer if tokenizer is not None else (model if isinstance(model, str) else None)
            if tok_source is None:
                raise UserError("hf backend: pass `tokenizer` when `model` is an already loaded model")
            self.tokenizer = (AutoTokenizer.from_pretrained(tok_source, trust_remote_code=trust_remote_code)
                              if isinstance(tok_source, str) else tok_source)
        except OSError as e:
            raise UserError(f"hf backend: cannot load {model!r}: {e}") from None
        self.model.to(device).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def render(self, prompt: Prompt) -> tuple[str, bool]:
        """The text fed to the model, and whether it already holds the special tokens."""
        if isinstance(prompt, str):
            return prompt, False
        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
            return text, True
        # No template: a plain transcript the model can continue.
        return "".join(f"{m['role']}: {m['content']}\n" for m in prompt) + "assistant: ", False

    def generate(self, prompts: list[Prompt], sampling: Sampling) -> list[list[str]]:
        with self._model_lock:  # the seed and the model belong to one call at a time
            return self._generate(prompts, sampling)

    def _generate(self, prompts: list[Prompt], sampling: Sampling) -> list[list[str]]:
        torch = self.torch
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)
        rendered = [self.render(p) for p in prompts]
        per_batch = max(1, self.batch_size // max(1, sampling.n))
        outputs: list[list[str]] = []
        for start in range(0, len(rendered), per_batch):
            chunk = rendered[start:start + per_batch]
            # Templated and plain prompts differ in special tokens, so tokenize each kind as such.
            ids = [self.tokenizer(text, add_special_tokens=not templated)["input_ids"] for text, templated in chunk]
            batch = self.tokenizer.pad({"input_ids": ids}, padding=True, return_tensors="pt").to(self.device)
            kwargs = dict(max_new_tokens=sampling.max_tokens, num_return_sequences=sampling.n,
                          pad_token_id=self.tokenizer.pad_token_id)
            if sampling.temperature > 0:
                kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p)
            else:
                kwargs.update(do_sample=False)
            if sampling.stop:
                kwargs.update(stop_strings=list(sampling.stop), tokenizer=self.tokenizer)
            with torch.no_grad():
                generated = self.model.generate(**batch, **kwargs)
            new_tokens = generated[:, batch["input_ids"].shape[1]:]
            texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            self.usage.requests += len(chunk)
            self.usage.prompt_tokens += int(batch["attention_mask"].sum())
            self.usage.completion_tokens += int((new_tokens != self.tokenizer.pad_token_id).sum())
            for i in range(len(chunk)):
                samples = texts[i * sampling.n:(i + 1) * sampling.n]
                outputs.append([_truncate_at_stop(t, sampling.stop) for t in samples])
        return outputs

    def close(self) -> None:
        self.model = None
        if self.torch.cuda.is_available():
            self.torch.cuda.empty_cache()
