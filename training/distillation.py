"""Knowledge distillation: the loss that teaches a student model from a teacher's predictions."""
from __future__ import annotations

import torch
from torch import nn


def distillation_loss(student: dict, teacher: dict, attention_mask: torch.Tensor, temperature: float = 2.0,
                      heads: tuple[str, ...] = ("token", "paragraph", "stance")) -> torch.Tensor:
    """How far a student's three heads are from a teacher's on the same windows (Hinton et al. 2015):
    KL divergence of the temperature-softened tag and stance distributions (scaled by ``T**2`` so its
    gradients keep their size) plus BCE against the teacher's paragraph-label probabilities. Every
    piece counts, including those of labels a source does not annotate: the teacher has an opinion there.
    ``heads`` names the heads that learn from the teacher; the others learn from the gold alone."""
    t = temperature
    loss = torch.zeros((), device=attention_mask.device)
    if "token" in heads:
        loss = loss + _token_loss(student, teacher, attention_mask.bool(), t)
    if "paragraph" in heads:
        loss = loss + nn.functional.binary_cross_entropy_with_logits(student["paragraph_logits"].float(),
                                                                     torch.sigmoid(teacher["paragraph_logits"].float()))
    if "stance" in heads:
        loss = loss + nn.functional.kl_div(nn.functional.log_softmax(student["stance_logits"].float() / t, -1),
                                           nn.functional.log_softmax(teacher["stance_logits"].float() / t, -1),
                                           log_target=True, reduction="batchmean") * t * t
    return loss


def _token_loss(student: dict, teacher: dict, valid: torch.Tensor, t: float) -> torch.Tensor:
    kl = nn.functional.kl_div(nn.functional.log_softmax(student["token_logits"].float() / t, -1),
                              nn.functional.log_softmax(teacher["token_logits"].float() / t, -1),
                              log_target=True, reduction="none").sum(-1)
    return kl[valid].mean() * t * t
