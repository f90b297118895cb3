"""The operator's own code: a model with a custom layer loads only when whoever starts the process
trusts the module that registers it (``--trust``, :func:`neurogenesis.io.models.trust`); a model
file never makes anything be imported.

The custom-layer models are built and loaded in fresh subprocesses, so that the test process's own
registry of Keras classes says nothing about what trust allows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from neurogenesis.errors import InputError, UnsafeModelError
from neurogenesis.io import models
from neurogenesis.io.models import load_model, scan_model_file, trust, trust_argument
from tests.conftest import ROOT

# The keras.io "Text classification with Transformer" block.
TRANSFORMER_BLOCK = """
import keras
from keras import layers


@keras.saving.register_keras_serializable(package="testlayers")
class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim, self.num_heads, self.ff_dim, self.rate = embed_dim, num_heads, ff_dim, rate
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs, training=False):
        attention = self.dropout1(self.att(inputs, inputs), training=training)
        out1 = self.layernorm1(inputs + attention)
        ffn = self.dropout2(self.ffn(out1), training=training)
        return self.layernorm2(out1 + ffn)

    def get_config(self):
        return {
            **super().get_config(),
            "embed_dim": self.embed_dim,
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "rate": self.rate,
        }
"""

# Another module of the operator's, registering a class of its own.
OTHER_LAYERS = """
import keras


@keras.saving.register_keras_serializable(package="otherlayers")
class Doubler(keras.layers.Layer):
    def call(self, inputs):
        return inputs * 2.0
"""

BUILD = """
import sys, numpy as np, keras
sys.path.insert(0, sys.argv[1])
from testlayers_block import TransformerBlock
keras.utils.set_random_seed(1)
inputs = keras.Input((6, 8))
x = TransformerBlock(8, 2, 16, name="block")(inputs)
x = keras.layers.GlobalAveragePooling1D()(x)
model = keras.Model(inputs, keras.layers.Dense(2, name="head")(x), name="with_block")
x = np.random.default_rng(0).normal(size=(4, 6, 8)).astype("float32")
model.save(sys.argv[1] + "/block.keras")
np.savez(sys.argv[1] + "/expected.npz", x=x, y=model.predict(x, verbose=0),
         params=model.count_params())
"""


def _python(code, *args):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else None


@pytest.fixture(scope="module")
def block(tmp_path_factory):
    """testlayers_block.py and other_layers.py in a folder, and a model saved with the block."""
    folder = tmp_path_factory.mktemp("operator_code")
    (folder / "testlayers_block.py").write_text(TRANSFORMER_BLOCK)
    (folder / "other_layers.py").write_text(OTHER_LAYERS)
    _python(BUILD, folder)
    return folder


LOAD = """
import json, sys, numpy as np
from neurogenesis.errors import UnsafeModelError
from neurogenesis.io import models

folder, steps = sys.argv[1], sys.argv[2:]
expected = np.load(folder + "/expected.npz")
out = []
for step in steps:
    if step.startswith("trust:"):
        models.trust(step[len("trust:"):])
        continue
    if step.startswith("import:"):  # also puts the folder on sys.path, to trust by name
        sys.path.insert(0, folder)
        __import__(step[len("import:"):])
        continue
    try:
        model = models.load_model(folder + "/block.keras")
    except UnsafeModelError as error:
        out.append({"refused": str(error)})
        continue
    got = model.predict(expected["x"], verbose=0)
    out.append({
        "max_difference": float(np.max(np.abs(got - expected["y"]))),
        "params": [model.count_params(), int(expected["params"])],
        "code_from": list(models.scan_model_file(folder + "/block.keras").code_from),
    })
print(json.dumps(out))
"""


def test_custom_layer_loads_only_once_its_file_is_trusted(block):
    untrusted, trusted = _python(
        LOAD, block, "load", f"trust:{block / 'testlayers_block.py'}", "load"
    )
    assert (
        "layer 'block' uses class 'TransformerBlock' from module 'testlayers_block'"
        in (untrusted["refused"])
    )
    assert "--trust testlayers_block" in untrusted["refused"]
    assert trusted["max_difference"] <= 1e-5
    assert trusted["params"][0] == trusted["params"][1]
    assert trusted["code_from"] == ["testlayers_block.py"]


def test_trusting_one_module_does_not_let_another_modules_class_load(block):
    """The block's module is imported (its class registered) but only other_layers is trusted."""
    other_only, both = _python(
        LOAD,
        block,
        "import:testlayers_block",
        "trust:other_layers",
        "load",
        "trust:testlayers_block",
        "load",
    )
    assert "registered by module 'testlayers_block', which is not trusted" in other_only["refused"]
    assert "--trust testlayers_block" in other_only["refused"]
    assert both["max_difference"] <= 1e-5
    assert both["code_from"] == ["testlayers_block"]


def _hostile_copy(block, path, module):
    with zipfile.ZipFile(block / "block.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    entry = next(e for e in config["config"]["layers"] if e["config"]["name"] == "block")
    entry["module"] = module
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_loading_never_imports_a_module_the_file_names(block, tmp_path, monkeypatch):
    """Even with trusted code about, a module named only by the file stays unimported, though
    it could be imported (and would leave a mark if it were)."""
    marker = tmp_path / "imported.txt"
    (tmp_path / "some_not_imported_module.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(models, "_TRUSTED", {})
    path = _hostile_copy(block, tmp_path / "names_a_module.keras", "some_not_imported_module")
    for _ in range(2):
        for loader in (scan_model_file, load_model):
            with pytest.raises(UnsafeModelError, match=r"from module 'some_not_imported_module'"):
                loader(path)
        trust(block / "other_layers.py")  # the second round: with trusted code present
    assert "some_not_imported_module" not in sys.modules
    assert not marker.exists()


def test_trust_refuses_what_it_cannot_import(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "_TRUSTED", {})
    (tmp_path / "broken_layers.py").write_text("raise RuntimeError('half written')\n")
    with pytest.raises(InputError, match=r"No module named 'no_such_module_xyz' to trust"):
        trust("no_such_module_xyz")
    with pytest.raises(InputError, match=r"Expected an existing \.py file to trust"):
        trust(tmp_path / "missing.py")
    with pytest.raises(InputError, match=r"failed: RuntimeError: half written"):
        trust(tmp_path / "broken_layers.py")
    with pytest.raises(InputError, match=r"Expected a module name"):
        trust_argument("not a module")
    assert models.trusted_modules() == {}
    assert not any(name.startswith("neurogenesis_trusted_broken") for name in sys.modules)
    assert trust_argument(tmp_path / "broken_layers.py") == str(
        (tmp_path / "broken_layers.py").resolve()
    )


def test_trusting_a_file_twice_imports_it_once(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "_TRUSTED", {})
    counter = tmp_path / "count.txt"
    (tmp_path / "counted.py").write_text(
        f"with open({str(counter)!r}, 'a') as f:\n    f.write('x')\n"
    )
    first = trust(tmp_path / "counted.py")
    assert trust(str(tmp_path / "counted.py")) == first
    assert counter.read_text() == "x"
    assert models.trusted_modules() == {first: "counted.py"}


def test_cli_trust_flag_loads_the_custom_layer(block):
    command = [sys.executable, "-m", "neurogenesis", "inspect", block / "block.keras", "--json"]
    refused = subprocess.run(
        list(map(str, command)), cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert refused.returncode == 0, refused.stderr  # structure only, with the reason
    shown = json.loads(refused.stdout)
    assert shown["runnable"] is False and "--trust testlayers_block" in shown["reason"]
    trusted = subprocess.run(
        [*map(str, command), "--trust", str(block / "testlayers_block.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert trusted.returncode == 0, trusted.stderr
    payload = json.loads(trusted.stdout)
    assert payload["runnable"] is True
    assert payload["num_params"] == int(np.load(block / "expected.npz")["params"])
    assert "TransformerBlock" in [layer["class_name"] for layer in payload["layers"]]
