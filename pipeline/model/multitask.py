"""The multi-task model: one encoder pass per paragraph window feeds three heads.

- token head: BIO tags for the entity labels (every piece of an entity tagged, the first ``B-``);
- paragraph head: multi-label sigmoid over the paragraph labels (mean-pooled encoder output);
- stance head: softmax over the stances, trained on gold ``adoption`` paragraphs only.

Partially annotated sources (CoNLL: PER/ORG/LOC only) must not teach that other labels are absent.
The token loss is therefore a marginal likelihood: a piece tagged ``O`` in such a source may be ``O``
or any tag of a label the source does not annotate, and the loss is ``-log`` of the probability mass
on that allowed set. Paragraph labels a source does not annotate are masked out of the BCE loss. Training may soften
the paragraph and stance targets (``label_smoothing``, passed to ``forward`` by the trainer; 0 by default).

``KamerbriefConfig`` / ``KamerbriefModel`` are registered with the Auto classes when this module is imported
(a trained folder's config.json says ``"model_type": "kamerbrief"``), so a trained folder loads with
``AutoModel.from_pretrained(path)`` or ``KamerbriefModel.from_pretrained(path)`` and carries its encoder's config
inside it; the encoder itself is any ``AutoModel`` (BERT, RoBERTa, XLM-R: BERTje, RobBERT, the e5 base).
"""
from __future__ import annotations

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel

from kamerbrief.data.schema import BIO_TAGS, ENTITY_LABELS, IGNORE, PARAGRAPH_LABELS, STANCES

POOLED_FAMILIES = {"bert", "roberta", "xlm-roberta", "camembert"}


def _no_pooler(model_type: str) -> dict:
    """The heads pool themselves; BERT-family encoders need not build (or randomly fill) a pooler."""
    return {"add_pooling_layer": False} if model_type in POOLED_FAMILIES else {}


class KamerbriefConfig(PretrainedConfig):
    model_type = "kamerbrief"

    def __init__(self, encoder: dict | None = None, tags: list[str] | None = None, paragraph_labels: list[str] | None = None,
                 stances: list[str] | None = None, entity_labels: list[str] | None = None,
                 thresholds: dict[str, float] | None = None, classifier_dropout: float = 0.1, context: str = "none",
                 context_tokens: int = 48, context_position: str = "before", **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder or {}
        self.tags = list(tags or BIO_TAGS)
        self.entity_labels = list(entity_labels or ENTITY_LABELS)
        self.paragraph_labels = list(paragraph_labels or PARAGRAPH_LABELS)
        self.stances = list(stances or STANCES)
        # Decision threshold per paragraph label, tuned on dev after training (0.5 until then).
        self.thresholds = dict(thresholds or {label: 0.5 for label in self.paragraph_labels})
        self.classifier_dropout = classifier_dropout
        # What the model reads beside each paragraph (kamerbrief.data.context); a config saved before
        # this setting existed reads as "none", the paragraph alone.
        self.context = context
        self.context_tokens = context_tokens
        self.context_position = context_position

    @property
    def encoder_config(self) -> PretrainedConfig:
        encoder = dict(self.encoder)
        return AutoConfig.for_model(encoder.pop("model_type"), **encoder)


def allowed_tags(tags: list[str], entity_labels: list[str]) -> torch.Tensor:
    """``(n_entity_labels, n_tags)``: which tags belong to each entity label (B- and I-)."""
    table = torch.zeros(len(entity_labels), len(tags), dtype=torch.bool)
    for t, tag in enumerate(tags):
        if tag != "O":
            table[entity_labels.index(tag[2:]), t] = True
    return table


class KamerbriefModel(PreTrainedModel):
    config_class = KamerbriefConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True

    def __init__(self, config: KamerbriefConfig, encoder: PreTrainedModel | None = None):
        super().__init__(config)
        if encoder is None:
            encoder_config = config.encoder_config
            encoder = AutoModel.from_config(encoder_config, **_no_pooler(encoder_config.model_type))
        self.encoder = encoder
        hidden = config.encoder_config.hidden_size
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.token_head = nn.Linear(hidden, len(config.tags))
        self.paragraph_head = nn.Linear(hidden, len(config.paragraph_labels))
        self.stance_head = nn.Linear(hidden, len(config.stances))
        self.register_buffer("tag_table", allowed_tags(config.tags, config.entity_labels), persistent=False)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear) and module in (getattr(self, "token_head", None), getattr(self, "paragraph_head", None),
                                                        getattr(self, "stance_head", None)):
            std = getattr(self.config.encoder_config, "initializer_range", 0.02)
            nn.init.normal_(module.weight, mean=0.0, std=std)
            nn.init.zeros_(module.bias)

    @classmethod
    def from_base(cls, base: str, keep_layers: int | None = None, **config_kwargs) -> KamerbriefModel:
        """The model training starts from.

        ``base`` is a pretrained encoder (a local folder or a Hugging Face Hub name), which gets new
        heads, or a trained kamerbrief model, which is trained further with its own heads.
        ``keep_layers`` keeps only the bottom layers of the encoder: a smaller, faster student that
        starts from what the full model learned (the top layers matter least; Sajjad et al. 2023,
        "On the effect of dropping layers of pre-trained transformer models").
        """
        base_config = AutoConfig.from_pretrained(base)
        if base_config.model_type == KamerbriefConfig.model_type:
            model = cls.from_pretrained(base, dtype=torch.float32)
        else:
            encoder = AutoModel.from_pretrained(base, **_no_pooler(base_config.model_type))
            model = cls(KamerbriefConfig(encoder=encoder.config.to_dict(), **config_kwargs), encoder=encoder)
        if keep_layers:
            model.keep_bottom_layers(keep_layers)
        return model

    def keep_bottom_layers(self, n: int) -> None:
        """Drop every encoder layer above the ``n``-th (BERT, RoBERTa and XLM-R layouts)."""
        layers = getattr(getattr(self.encoder, "encoder", None), "layer", None)
        if not isinstance(layers, nn.ModuleList):
            raise ValueError(f"cannot find the layer list of a {self.encoder.config.model_type} encoder to drop layers from")
        if not 1 <= n <= len(layers):
            raise ValueError(f"keep_layers must be between 1 and {len(layers)}, not {n}")
        self.encoder.encoder.layer = layers[:n]
        self.encoder.config.num_hidden_layers = n
        self.config.encoder = {**self.config.encoder, "num_hidden_layers": n}

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, cats=None, cats_mask=None,
                entity_mask=None, stance=None, pool_mask=None, label_smoothing: float = 0.0, **_):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        hidden = self.dropout(hidden)
        token_logits = self.token_head(hidden)
        # The paragraph and stance heads pool over ``pool_mask`` (the paragraph's pieces when a context is read
        # before it), else over every attended piece.
        mask = (attention_mask if pool_mask is None else pool_mask * attention_mask).unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        paragraph_logits = self.paragraph_head(pooled)
        stance_logits = self.stance_head(pooled)
        loss = None
        if labels is not None:
            loss = self.token_loss(token_logits, labels, entity_mask)
            if cats is not None:
                weights = cats_mask if cats_mask is not None else torch.ones_like(cats)
                targets = cats.float() * (1 - label_smoothing) + label_smoothing / 2
                bce = nn.functional.binary_cross_entropy_with_logits(paragraph_logits.float(), targets, reduction="none")
                loss = loss + (bce * weights).sum() / weights.sum().clamp(min=1.0)
            if stance is not None and (stance != IGNORE).any():
                loss = loss + nn.functional.cross_entropy(stance_logits.float(), stance, ignore_index=IGNORE,
                                                          label_smoothing=label_smoothing)
        return {"loss": loss, "token_logits": token_logits, "paragraph_logits": paragraph_logits, "stance_logits": stance_logits}

    def token_loss(self, logits: torch.Tensor, labels: torch.Tensor, entity_mask: torch.Tensor | None) -> torch.Tensor:
        """Marginal negative log-likelihood over the tags a piece may have given what its source annotates."""
        logits = logits.float()
        valid = labels != IGNORE
        safe = labels.clamp(min=0)
        allowed = nn.functional.one_hot(safe, logits.size(-1)).bool()
        if entity_mask is not None:
            # Tags of labels the source does not annotate are allowed wherever the gold says O.
            unannotated = (entity_mask < 0.5).float() @ self.tag_table.float()  # (batch, n_tags)
            is_o = (labels == self.config.tags.index("O")).unsqueeze(-1)
            allowed = allowed | (is_o & unannotated.bool().unsqueeze(1))
        log_z = torch.logsumexp(logits, dim=-1)
        log_allowed = torch.logsumexp(logits.masked_fill(~allowed, float("-inf")), dim=-1)
        nll = (log_z - log_allowed)[valid]
        return nll.mean() if nll.numel() else logits.sum() * 0.0


AutoConfig.register("kamerbrief", KamerbriefConfig)
AutoModel.register(KamerbriefConfig, KamerbriefModel)
