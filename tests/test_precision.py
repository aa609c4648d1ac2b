"""Precision by hardware: CPU flag parsing, the bf16 decision, its overrides, and both
training paths (bf16 autocast and fp32) really running, in SFT and in the rfft trainer."""

import json
import math
import time

import pytest

from mathlab import precision
from mathlab.precision import (
    ENV,
    CPUPrecision,
    PrecisionError,
    announce,
    bf16_native_by_flags,
    cpu_precision,
    decide,
    parse_cpuinfo,
    parse_env,
    probe_gflops,
    sample_bf16,
    train_bf16,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

XEON_SPR = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep sse sse2 ssse3 fma cx16 sse4_1 sse4_2 \
popcnt aes xsave avx f16c rdrand avx2 bmi2 avx512f avx512dq avx512cd avx512bw avx512vl \
avx512_vnni avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8 avx_vnni
bogomips\t: 4000.00

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu avx2
"""
EPYC_AVX2 = """processor\t: 0
vendor_id\t: AuthenticAMD
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush \
mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl \
pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand \
hypervisor lahf_lm cmp_legacy abm sse4a misalignsse 3dnowprefetch bmi1 avx2 smep bmi2 rdseed \
adx smap clflushopt sha_ni xsaveopt xsavec xgetbv1 clzero xsaveerptr
"""
ARM_V1 = """processor\t: 0
BogoMIPS\t: 2100.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm \
jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs \
paca pacg dcpodp svei8mm svebf16 i8mm bf16 dgh rng
CPU implementer\t: 0x41
CPU part\t: 0xd40
"""
ARM_N1 = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm \
lrcpc dcpop asimddp ssbs
CPU implementer\t: 0x41
CPU part\t: 0xd0c
"""


# --------------------------------------------------------------------------- parsing
def test_parse_an_avx512_bf16_xeon():
    model, flags = parse_cpuinfo(XEON_SPR)
    assert model == "Intel(R) Xeon(R) Platinum 8480+"
    assert {"avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"} <= set(flags)
    assert "fpu" not in flags and "sse" not in flags  # only speed-relevant flags are kept
    assert bf16_native_by_flags("x86_64", flags)


def test_parse_an_avx2_only_epyc():
    model, flags = parse_cpuinfo(EPYC_AVX2)
    assert model == "AMD EPYC"
    assert flags == ("sse4_2", "avx", "f16c", "fma", "avx2")
    assert not bf16_native_by_flags("x86_64", flags)


def test_parse_aarch64_features_with_and_without_bf16():
    model, v1 = parse_cpuinfo(ARM_V1)
    assert model == ""  # aarch64 cpuinfo names no model: cpu_precision falls back to platform
    assert {"asimd", "sve", "bf16", "svebf16", "i8mm"} <= set(v1)
    assert bf16_native_by_flags("aarch64", v1)
    _, n1 = parse_cpuinfo(ARM_N1)
    assert "asimd" in n1 and "bf16" not in n1
    assert not bf16_native_by_flags("aarch64", n1)
    assert parse_cpuinfo("") == ("", ())


# --------------------------------------------------------------------------- the decision
def test_decision_needs_native_bf16_and_a_faster_probe():
    amx = ("avx2", "avx512_bf16", "amx_bf16")
    assert decide("x86_64", amx, 100.0, 270.0) == (True, True, "flags+probe")
    assert decide("x86_64", amx, 100.0, 110.0)[1] is False  # native but not 1.2x faster
    assert decide("x86_64", ("avx2", "fma"), 118.0, 1.3) == (False, False, "flags+probe")
    assert decide("x86_64", ("avx2",), 100.0, 500.0)[1] is False  # fast but not native: no
    assert decide("x86_64", amx, None, None) == (True, True, "flags (no probe)")
    assert decide("x86_64", (), 100.0, 300.0, flags_known=False) == (
        False,
        True,
        "probe (flags unknown)",
    )
    assert decide("x86_64", amx, 100.0, 300.0, forced=False) == (
        True,
        False,
        f"forced by {ENV}=0",
    )


def test_forced_env_both_ways(monkeypatch):
    monkeypatch.setenv(ENV, "1")
    cpu_precision.cache_clear()
    on = cpu_precision(probe=False)
    assert on.bf16_fast and on.source == f"forced by {ENV}=1" and on.reason() == on.source
    monkeypatch.setenv(ENV, "0")
    off = cpu_precision(probe=False)  # read at every call: no cache to clear
    assert not off.bf16_fast and off.source == f"forced by {ENV}=0"
    assert on.flags == off.flags and on.cpu_model == off.cpu_model  # same hardware facts
    monkeypatch.delenv(ENV)
    by_hw = cpu_precision(probe=False)
    assert not by_hw.source.startswith("forced")


@pytest.mark.parametrize("bad", ["2", "maybe", "bf16"])
def test_a_bad_env_value_is_a_clear_error(monkeypatch, bad):
    monkeypatch.setenv(ENV, bad)
    with pytest.raises(PrecisionError, match=f"{ENV}='{bad}'.*expected 1.*or 0"):
        cpu_precision(probe=False)
    with pytest.raises(PrecisionError, match=ENV):
        train_bf16(None, "cpu")
    assert train_bf16(False, "cpu") is False  # an explicit request never reads it
    assert parse_env("") is None and parse_env(" 1 ") is True and parse_env("0") is False


def test_train_and_sample_precedence(monkeypatch):
    monkeypatch.setenv(ENV, "1")  # the hardware says bf16 ...
    assert train_bf16(None, "cpu") is True
    assert train_bf16(False, "cpu") is False  # ... a request wins
    assert sample_bf16(None, greedy=False, device="cpu") is True
    assert sample_bf16(None, greedy=True, device="cpu") is False  # greedy stays exact fp32
    assert sample_bf16(True, greedy=True, device="cpu") is True  # unless asked
    assert sample_bf16(False, greedy=False, device="cpu") is False
    monkeypatch.setenv(ENV, "0")  # the hardware says fp32 ...
    assert train_bf16(None, "cpu") is False
    assert train_bf16(True, "cpu") is True  # ... a request wins
    assert sample_bf16(None, greedy=False, device="cpu") is False
    assert sample_bf16(True, greedy=False, device="cpu") is True
    # other devices: MPS trains in fp32; decoding there uses the model dtype, no autocast
    assert train_bf16(None, "mps") is False and train_bf16(True, "mps") is True
    assert sample_bf16(True, greedy=False, device="cuda") is False


# --------------------------------------------------------------------------- the probe
def test_probe_is_short_and_positive():
    start = time.perf_counter()
    fp32, bf16 = probe_gflops()
    assert time.perf_counter() - start < 2.0
    assert fp32 > 0 and bf16 > 0


def test_this_cpu_record(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    cpu_precision.cache_clear()
    start = time.perf_counter()
    rec = cpu_precision()
    assert time.perf_counter() - start < 2.5  # cpuinfo + probe, measured once ...
    start = time.perf_counter()
    assert cpu_precision() == rec and time.perf_counter() - start < 0.05  # ... then cached
    assert isinstance(rec, CPUPrecision)
    assert rec.fp32_gflops > 0 and rec.bf16_gflops > 0 and rec.probe_threads >= 1
    assert rec.torch_capability and rec.arch and rec.cpu_model
    assert rec.source in ("flags+probe", "probe (flags unknown)")
    if rec.source == "flags+probe" and not rec.bf16_native:
        assert not rec.bf16_fast  # emulated bf16 is never chosen
    d = json.loads(json.dumps(rec.to_dict()))  # provenance.json material
    assert d["flags"] == list(rec.flags) and d["bf16_fast"] == rec.bf16_fast
    line = rec.describe()
    assert rec.cpu_model in line and "GFLOP/s" in line and rec.reason() in line


def test_announce_prints_the_hardware_line_once(monkeypatch, capsys):
    monkeypatch.setenv(ENV, "0")
    precision._announced.clear()
    first = announce("sft training", False)
    announce("greedy sampling", False, why="greedy decoding stays exact fp32")
    announce("rfft training", True, requested=True, setting="rfft.bf16")
    out = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("cpu: ") for line in out) == 1
    assert first == f"precision (sft training): fp32 — forced by {ENV}=0" and first in out
    assert "precision (greedy sampling): fp32 — greedy decoding stays exact fp32" in out
    assert "precision (rfft training): bf16 autocast — requested (rfft.bf16=true)" in out


# --------------------------------------------------------------------------- both training paths
@pytest.fixture(scope="module")
def rows():
    from mathlab.data.generator import generate_problems
    from mathlab.sft import build_rows

    return build_rows(generate_problems(3, seed=5), "answer_is")


def test_sft_trains_in_bf16_and_in_fp32(rows, tmp_path, monkeypatch, capsys):
    from mathlab.config import SFTParams
    from mathlab.sft import finished_stage, train_sft
    from mathlab.sft_trl import sft_config_kwargs, use_bf16

    params = SFTParams(batch_size=2, logging_steps=1, save_steps=1000, max_length=256, lr=1e-3)
    out = tmp_path / "sft"
    results = {}
    for forced, want in (("1", "bf16-autocast"), ("0", "fp32")):
        monkeypatch.setenv(ENV, forced)
        assert sft_config_kwargs(params, tmp_path, device="cpu")["bf16"] is (forced == "1")
        res = train_sft("tiny-random", rows, params, out, max_steps=1, label="prec")
        assert not res.skipped and res.steps == 1 and res.precision == want
        assert res.final_loss is not None and math.isfinite(res.final_loss)
        assert json.loads((out / "stage.json").read_text())["precision"] == want
        results[forced] = res
    # the key records the precision used: fp32 did not reuse the bf16 stage in the same folder
    assert results["1"].key != results["0"].key
    printed = capsys.readouterr().out
    assert "precision (prec training): bf16 autocast" in printed
    assert "precision (prec training): fp32" in printed
    # a request beats the hardware
    assert use_bf16(params.model_copy(update={"bf16": True}), "cpu") is True
    # a stage record from before precision was recorded (and under the old name) still loads
    stored = json.loads((out / "stage.json").read_text())
    del stored["precision"]
    (out / "stage.json").unlink()
    (out / "mathlab_stage.json").write_text(json.dumps(stored))
    old = finished_stage(out, stored["key"])
    assert old is not None and old.skipped and old.precision == "unknown"


def test_rfft_trainer_honours_bf16_both_ways(monkeypatch):
    import torch

    from mathlab.rfft import tasks
    from mathlab.rfft.tokenizers import build_tokenizer
    from mathlab.rfft.train import make_examples, tiny_llama, train_lm

    texts = [tasks.format_example("direct", a, b) for a in range(6) for b in range(6)]
    tok = build_tokenizer([p + t for p, t in texts])
    examples = make_examples(tok, texts)
    for forced, requested, want in (("1", None, True), ("0", None, False), ("1", False, False)):
        monkeypatch.setenv(ENV, forced)
        torch.manual_seed(0)
        model = tiny_llama(tok, layers=1, hidden=32, heads=2)
        log = train_lm(model, examples, steps=2, batch_size=8, bf16=requested, pad_id=0)
        assert log.bf16 is want and math.isfinite(log.final_loss)


def test_docstring_examples():
    import doctest

    result = doctest.testmod(precision)
    assert result.failed == 0 and result.attempted > 0
