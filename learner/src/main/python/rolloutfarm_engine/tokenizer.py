"""Byte-level tokenizer of the built-in policy.

Ids 0..255 are the UTF-8 bytes of the text; four special tokens follow. Special tokens are
only produced from text when their exact spelling appears in it (`<|image|>` etc.), so
ordinary text never turns into special tokens by accident of its bytes.
"""

import re

PAD, BOS, EOS, IMAGE = 256, 257, 258, 259
SPECIALS = {PAD: "<|pad|>", BOS: "<|bos|>", EOS: "<|eos|>", IMAGE: "<|image|>"}
_BY_SPELLING = {v: k for k, v in SPECIALS.items()}
_SPECIAL_RE = re.compile("|".join(re.escape(s) for s in _BY_SPELLING))


class ByteTokenizer:
    vocab_size = 260
    pad_token_id = PAD
    bos_token_id = BOS
    eos_token_id = EOS
    image_token_id = IMAGE

    def encode(self, text):
        """Text to ids: UTF-8 bytes, with special-token spellings mapped to their ids."""
        ids = []
        pos = 0
        for m in _SPECIAL_RE.finditer(text):
            ids.extend(text[pos:m.start()].encode("utf-8"))
            ids.append(_BY_SPELLING[m.group(0)])
            pos = m.end()
        ids.extend(text[pos:].encode("utf-8"))
        return ids

    def decode(self, ids, skip_special=False):
        """Ids to text; special tokens are spelled out unless skip_special. Byte sequences
        that are not valid UTF-8 (a generation cut inside a character) become U+FFFD."""
        out = []
        buf = bytearray()
        for i in ids:
            if 0 <= i < 256:
                buf.append(i)
                continue
            if buf:
                out.append(buf.decode("utf-8", errors="replace"))
                buf = bytearray()
            if not skip_special:
                out.append(SPECIALS.get(i, ""))
        if buf:
            out.append(buf.decode("utf-8", errors="replace"))
        return "".join(out)

    def token_bytes(self, token_id):
        """The bytes one token adds to the text (empty for special tokens)."""
        return bytes([token_id]) if 0 <= token_id < 256 else b""
