"""Small word-level tokenizers for models trained from scratch (06_rfft).

Two ways to write numbers, the variable the Leave-Square-Out experiment turns:

* ``digit``: one token per digit, as SmolLM2 and Llama tokenize numbers;
* ``number``: a whole run of digits is one token, as GPT-2's BPE does for most numbers
  below 1000 (`"46"` is one token, so the model never sees that 46 is "4 then 6").

Everything else is split into words (a leading space kept with the word, as GPT-2
does), newline-plus-indent runs, and single punctuation marks. The vocabulary is every
piece seen in the texts it is built from, plus `<pad> <s> </s> <unk>`. Decoding fuses
the pieces back without separators, so ``decode(encode(text)) == text`` for every text
made of known pieces. The tokenizer is a `tokenizers` WordLevel model wrapped in
`PreTrainedTokenizerFast`, saved with `save_pretrained` next to the model.

>>> tok = build_tokenizer(["12+34=46"], level="number")
>>> tok.convert_ids_to_tokens(tok.encode("12+34=46"))
['12', '+', '34', '=', '46']
>>> tok = build_tokenizer(["12+34=46"], level="digit")
>>> tok.convert_ids_to_tokens(tok.encode("12+34=46"))
['1', '2', '+', '3', '4', '=', '4', '6']
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

LEVELS = ("digit", "number")
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")
_WORDS = r" ?[A-Za-z_][A-Za-z_.]*(?:\(\))?|\n *|[^\w\s]| +"
PATTERNS = {"digit": r"\d|" + _WORDS, "number": r"\d+|" + _WORDS}


def _pre_tokenizer(level: str) -> pre_tokenizers.PreTokenizer:
    if level not in PATTERNS:
        raise ValueError(f"unknown tokenizer level {level!r}; expected one of {LEVELS}")
    return pre_tokenizers.Split(Regex(PATTERNS[level]), behavior="isolated")


def pieces(text: str, level: str) -> list[str]:
    """The pieces a text splits into at this level (before the vocabulary lookup)."""
    return [p for p, _ in _pre_tokenizer(level).pre_tokenize_str(text)]


def build_tokenizer(
    texts: Iterable[str], level: str = "digit", extra: Iterable[str] = ()
) -> PreTrainedTokenizerFast:
    """A WordLevel tokenizer whose vocabulary is every piece of `texts` (plus `extra`).

    Digits 0-9 are always in the digit-level vocabulary, so any number can be written.
    """
    pre = _pre_tokenizer(level)
    vocab: dict[str, int] = {s: i for i, s in enumerate(SPECIALS)}
    seeds = [str(d) for d in range(10)] if level == "digit" else []
    for piece in [*seeds, *extra]:
        vocab.setdefault(piece, len(vocab))
    for text in texts:
        for piece, _ in pre.pre_tokenize_str(text):
            vocab.setdefault(piece, len(vocab))
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre
    core.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        clean_up_tokenization_spaces=False,
        model_max_length=1 << 16,
    )


def number_tokenizer(max_number: int, extra_texts: Iterable[str] = ()) -> PreTrainedTokenizerFast:
    """Number-level tokenizer that knows every number 0..max_number as one token."""
    return build_tokenizer(
        extra_texts, level="number", extra=[str(i) for i in range(max_number + 1)]
    )


def encode(tok: PreTrainedTokenizerFast, texts: list[str]) -> list[list[int]]:
    """Token ids of many texts (no special tokens); raises on a piece the vocabulary lacks."""
    ids = tok(texts, add_special_tokens=False)["input_ids"]
    unk = tok.unk_token_id
    for text, row in zip(texts, ids):
        if unk in row:
            bad = [p for p in pieces(text, tokenizer_level(tok)) if p not in tok.get_vocab()]
            raise ValueError(f"text {text[:60]!r} has pieces outside the vocabulary: {bad[:5]}")
    return ids


def tokenizer_level(tok: PreTrainedTokenizerFast) -> str:
    """'digit' or 'number', read back from the tokenizer's own split pattern."""
    vocab = tok.get_vocab()
    return "number" if any(len(t) > 1 and t.isdigit() for t in vocab) else "digit"
