import pytest

from mathlab.config import ConfigError, available_presets, load_config, parse_override, valid_keys


def test_presets_exist_and_validate():
    assert {"smoke", "cpu", "gpu"} <= set(available_presets())
    for preset in ("smoke", "cpu", "gpu"):
        cfg = load_config(preset)
        assert cfg.preset == preset


def test_all_presets_share_sections():
    # every section a preset sets is set by all three (no knob only one preset knows)
    import yaml

    from mathlab.config import params_dir

    raws = {
        p: yaml.safe_load((params_dir() / f"{p}.yaml").read_text()) for p in ("smoke", "cpu", "gpu")
    }
    sections = [set(k for k, v in raw.items() if isinstance(v, dict)) for raw in raws.values()]
    assert sections[0] == sections[1] == sections[2]


def test_override_merges_and_none_is_ignored():
    base = load_config("smoke")
    cfg = load_config("smoke", {"seed": 7, "data.n_train": None, "data": {"n_test": 3}})
    assert cfg.seed == 7
    assert cfg.data.n_train == base.data.n_train
    assert cfg.data.n_test == 3


def test_unknown_key_names_it_and_the_closest():
    with pytest.raises(
        ConfigError, match=r"unknown key 'data\.n_trian' — did you mean 'data\.n_train'"
    ):
        load_config("smoke", {"data.n_trian": 5})
    with pytest.raises(
        ConfigError, match=r"unknown key 'heldout_familes' — did you mean 'data\.heldout_families'"
    ):
        load_config("smoke", {"heldout_familes": ["ages"]})
    with pytest.raises(ConfigError, match=r"unknown section 'dat' — did you mean 'data'"):
        load_config("smoke", {"dat.n_train": 5})


def test_unknown_key_in_a_preset_file_names_the_file(tmp_path):
    (tmp_path / "mine.yaml").write_text("seed: 1\ndata:\n  n_trainn: 3\n")
    with pytest.raises(ConfigError, match=r"params/mine\.yaml: unknown key 'data\.n_trainn'"):
        load_config("mine", directory=tmp_path)


def test_wrong_type_names_key_and_expected_type():
    with pytest.raises(ConfigError, match=r"key 'data\.n_train' expects int, got 'many' \(str\)"):
        load_config("smoke", {"data.n_train": "many"})
    with pytest.raises(ConfigError, match=r"key 'seed' expects int"):
        load_config("smoke", {"seed": 1.5})
    with pytest.raises(ConfigError, match=r"key 'device'"):
        load_config("smoke", {"device": "tpu"})


def test_missing_preset_lists_available():
    with pytest.raises(ConfigError, match=r"unknown preset 'cpuu'.*available: .*cpu.*smoke"):
        load_config("cpuu")


def test_parse_override_reads_yaml_values():
    assert parse_override("sft.lr=1e-4") == ("sft.lr", 1e-4)
    assert parse_override("data.heldout_families=[ages, time]") == (
        "data.heldout_families",
        ["ages", "time"],
    )
    assert parse_override("seed=3") == ("seed", 3)
    with pytest.raises(ConfigError, match="key=value"):
        parse_override("seed")


def test_float_written_in_exponent_form_is_a_float(tmp_path):
    (tmp_path / "p.yaml").write_text("data:\n  distractor_frac: 1e-1\n")
    assert load_config("p", directory=tmp_path).data.distractor_frac == pytest.approx(0.1)


def test_valid_keys_cover_sections():
    keys = valid_keys()
    assert "seed" in keys and "data.n_train" in keys


def test_resolved_config_written_by_setup(tmp_path):
    from mathlab.notebook import setup

    cfg, run = setup("00_data", preset="smoke", run_dir=tmp_path, overrides={"seed": 5})
    written = (tmp_path / "params" / "00_data.yaml").read_text()
    assert "seed: 5" in written and cfg.seed == 5
    assert run.path == tmp_path.resolve()


def test_moved_key_names_its_new_place(tmp_path):
    with pytest.raises(ConfigError, match=r"override: 'sft\.eval_style' moved to 'eval\.style'"):
        load_config("smoke", {"sft.eval_style": "cot"})
    (tmp_path / "old.yaml").write_text("sft:\n  maj_k: 4\n")
    with pytest.raises(ConfigError, match=r"params/old\.yaml: 'sft\.maj_k' moved to 'eval\.k'"):
        load_config("old", directory=tmp_path)
    cfg = load_config("smoke", {"eval.style": "cot", "eval.k": 3})
    assert (cfg.eval.style, cfg.eval.k) == ("cot", 3)
