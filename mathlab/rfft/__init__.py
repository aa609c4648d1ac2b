"""06_rfft: case-based vs rule-based reasoning (Hu et al. 2024, arXiv 2402.17709).

`tasks` builds the Leave-Square-Out splits and the three answer formats (direct,
scratchpad, rule following); `tokenizers` the small word-level tokenizers (one token per
digit, or one per number); `train` trains small Llamas from scratch on CPU (or LoRA on a
hub model) and evaluates them with batched greedy decoding; `plots` draws the figures.
"""
