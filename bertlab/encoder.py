"""A compact BERT encoder from scratch that loads pretrained Hugging Face BERT weights."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .attention import MultiHeadSelfAttention, causal_mask, padding_mask


@dataclass
class EncoderConfig:
    """The handful of numbers that define a BERT encoder."""

    vocab_size: int = 30522
    hidden_size: int = 384
    num_layers: int = 6
    num_heads: int = 12
    intermediate_size: int = 1536
    max_position: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12

    @classmethod
    def from_hf(cls, config) -> "EncoderConfig":
        """Read the numbers from a ``transformers.BertConfig``."""
        return cls(config.vocab_size, config.hidden_size, config.num_hidden_layers,
                   config.num_attention_heads, config.intermediate_size,
                   config.max_position_embeddings, config.type_vocab_size, config.layer_norm_eps)


class Embeddings(nn.Module):
    """Token + position + segment embeddings, then LayerNorm."""

    def __init__(self, c: EncoderConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size)
        self.position_embeddings = nn.Embedding(c.max_position, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None
                ) -> torch.Tensor:
        """Return ``[batch, n, hidden]`` input vectors for the first layer."""
        n = input_ids.shape[1]
        if n > self.position_embeddings.num_embeddings:
            raise ValueError(f"sequence of {n} tokens exceeds the {self.position_embeddings.num_embeddings} "
                             "learned positions; truncate (tokenizer(..., truncation=True)) or chunk it")
        positions = torch.arange(n, device=input_ids.device)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = (self.word_embeddings(input_ids) + self.position_embeddings(positions)
             + self.token_type_embeddings(token_type_ids))
        return self.LayerNorm(x)


class EncoderLayer(nn.Module):
    """One transformer encoder layer (post-LayerNorm, as in BERT)."""

    def __init__(self, c: EncoderConfig) -> None:
        super().__init__()
        self.attention = MultiHeadSelfAttention(c.hidden_size, c.num_heads)
        self.attention_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.intermediate = nn.Linear(c.hidden_size, c.intermediate_size)
        self.output = nn.Linear(c.intermediate_size, c.hidden_size)
        self.output_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(new x, attention weights)``."""
        attended, weights = self.attention(x, mask)
        x = self.attention_norm(x + attended)
        x = self.output_norm(x + self.output(F.gelu(self.intermediate(x))))
        return x, weights


@dataclass
class EncoderOutput:
    """Hidden states of every layer (0 = embeddings) and attention weights of every layer."""

    hidden_states: list[torch.Tensor]
    attentions: list[torch.Tensor]
    pooled: torch.Tensor

    @property
    def last_hidden_state(self) -> torch.Tensor:
        """Return the final layer's token vectors ``[batch, n, hidden]``."""
        return self.hidden_states[-1]


class Encoder(nn.Module):
    """BERT's encoder: embeddings, a stack of layers, and the [CLS] pooler."""

    def __init__(self, c: EncoderConfig) -> None:
        super().__init__()
        self.config = c
        self.embeddings = Embeddings(c)
        self.layers = nn.ModuleList(EncoderLayer(c) for _ in range(c.num_layers))
        self.pooler = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, mask: str = "bidirectional"
                ) -> EncoderOutput:
        """Encode a batch. ``mask`` is ``"bidirectional"`` (BERT) or ``"causal"`` (GPT-style)."""
        if mask not in ("bidirectional", "causal"):
            raise ValueError(f"mask must be 'bidirectional' or 'causal', not {mask!r}")
        b, n = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        allowed = padding_mask(attention_mask)  # [b, 1, 1, n]: keys that are tokens
        if mask == "causal":
            allowed = allowed & causal_mask(n, input_ids.device)
        x = self.embeddings(input_ids, token_type_ids)
        hidden, attentions = [x], []
        for layer in self.layers:
            x, weights = layer(x, allowed)
            hidden.append(x)
            attentions.append(weights)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return EncoderOutput(hidden, attentions, pooled)

    @classmethod
    def from_hf(cls, model: nn.Module) -> "Encoder":
        """Build an encoder with the weights of a Hugging Face ``BertModel`` (pooler optional)."""
        enc = cls(EncoderConfig.from_hf(model.config))
        enc.load_state_dict(hf_to_ours(model.state_dict()), strict=False)
        missing = set(enc.state_dict()) - set(hf_to_ours(model.state_dict()))
        if missing - {"pooler.weight", "pooler.bias"}:
            raise ValueError(f"weights missing from the Hugging Face model: {sorted(missing)}")
        return enc.eval()


def hf_to_ours(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a Hugging Face ``BertModel`` state dict to this module's parameter names."""
    out = {}
    for name, tensor in state.items():
        name = name.removeprefix("bert.")
        if name.startswith("embeddings.") and "position_ids" not in name:
            out[name] = tensor
        elif name.startswith("encoder.layer."):
            rest = name.removeprefix("encoder.layer.")
            i, rest = rest.split(".", 1)
            mapped = {
                "attention.self.query": "attention.query", "attention.self.key": "attention.key",
                "attention.self.value": "attention.value", "attention.output.dense": "attention.output",
                "attention.output.LayerNorm": "attention_norm", "intermediate.dense": "intermediate",
                "output.dense": "output", "output.LayerNorm": "output_norm",
            }
            module, param = rest.rsplit(".", 1)
            if module in mapped:
                out[f"layers.{i}.{mapped[module]}.{param}"] = tensor
        elif name.startswith("pooler.dense."):
            out["pooler." + name.rsplit(".", 1)[1]] = tensor
    return out


def parameter_breakdown(model: nn.Module) -> dict[str, int]:
    """Count parameters by part: embeddings, attention, feed-forward, layer norms, pooler."""
    parts = {"embeddings": 0, "attention": 0, "feed-forward": 0, "layer norms": 0, "pooler": 0}
    for name, p in model.named_parameters():
        n = p.numel()
        if name.startswith("embeddings.") and "LayerNorm" not in name:
            parts["embeddings"] += n
        elif "LayerNorm" in name or "_norm" in name:
            parts["layer norms"] += n
        elif ".attention." in name:
            parts["attention"] += n
        elif "intermediate" in name or ".output." in name:
            parts["feed-forward"] += n
        elif name.startswith("pooler"):
            parts["pooler"] += n
        else:  # pragma: no cover - every BERT parameter belongs to one part above
            raise ValueError(f"unclassified parameter {name}")
    return parts
