from rolloutfarm_engine.tokenizer import BOS, EOS, IMAGE, ByteTokenizer


def test_text_round_trips_through_bytes_and_special_spellings():
    tk = ByteTokenizer()
    text = "Count the dots: <|image|> → \\boxed{42} 日本 <|eos|>"
    ids = tk.encode(text)
    assert ids.count(IMAGE) == 1 and ids[-1] == EOS
    assert all(0 <= i < tk.vocab_size for i in ids)
    assert tk.decode(ids) == text
    assert tk.decode(tk.encode("<|bos|>ab")) == "<|bos|>ab" and tk.encode("<|bos|>")[0] == BOS


def test_plain_text_never_produces_special_tokens():
    tk = ByteTokenizer()
    ids = tk.encode("<|imag|> <image> |eos|")
    assert all(i < 256 for i in ids)
    assert bytes(ids).decode() == "<|imag|> <image> |eos|"


def test_decode_skips_specials_on_request_and_survives_cut_characters():
    tk = ByteTokenizer()
    assert tk.decode(tk.encode("a<|image|>b"), skip_special=True) == "ab"
    cut = tk.encode("é")[:1]
    assert tk.decode(cut) == "\ufffd"
