"""The model layer, shared by inference (``kamerbrief.pipeline.transformer``) and training: the multi-task
model and its config (``multitask``, needs torch and transformers) and the reading of its outputs back onto
the paragraph (``decoding``, numpy only). It imports only the label schema (``kamerbrief.data.schema``).

Nothing is imported here, so that ``decoding`` can be used without loading torch.
"""
