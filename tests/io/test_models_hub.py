"""Installed model libraries (KerasHub): real KerasHub models load through Keras's registry in safe
mode and predict as the originals do; files that name classes KerasHub does not register, or hide
code inside a KerasHub model, are still refused.

Skipped where keras_hub is not installed (it is a development dependency: requirements-nodeps.txt).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neurogenesis.errors import InputError, UnsafeModelError
from neurogenesis.io.models import load_model, scan_model_file
from neurogenesis.io.structure import model_structure

keras_hub = pytest.importorskip(
    "keras_hub", reason="keras_hub is not installed (pip install keras-hub)"
)

ROOT = Path(__file__).resolve().parents[2]


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info.filename) for info in archive.infolist()}


def _with_config(source, path, edit):
    """A copy of the archive at source whose config.json was changed by edit(config)."""
    members = _members(source)
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """Tiny KerasHub models with random weights, saved, with inputs and the originals' outputs."""
    import keras

    keras.utils.set_random_seed(3)
    folder = tmp_path_factory.mktemp("hub")
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 100, size=(3, 16)).astype("int32")
    mask = np.ones((3, 16), dtype="int32")
    mask[0, 10:] = 0

    encoder_in = keras.Input((8, 16), name="sequence")
    encoded = keras_hub.layers.TransformerEncoder(intermediate_dim=32, num_heads=2, name="block")(
        encoder_in
    )
    pooled = keras.layers.GlobalAveragePooling1D(name="pool")(encoded)
    functional = keras.Model(
        encoder_in, keras.layers.Dense(3, name="head")(pooled), name="with_hub_layer"
    )

    built = {
        "bert": (
            keras_hub.models.BertBackbone(
                vocabulary_size=100,
                num_layers=2,
                num_heads=2,
                hidden_dim=16,
                intermediate_dim=32,
                max_sequence_length=16,
            ),
            {"token_ids": tokens, "segment_ids": np.zeros_like(tokens), "padding_mask": mask},
        ),
        "gpt2": (
            keras_hub.models.GPT2Backbone(
                vocabulary_size=100,
                num_layers=2,
                num_heads=2,
                hidden_dim=16,
                intermediate_dim=32,
                max_sequence_length=16,
            ),
            {"token_ids": tokens, "padding_mask": mask},
        ),
        "vit": (
            keras_hub.models.ViTBackbone(
                image_shape=(16, 16, 3),
                patch_size=4,
                num_layers=2,
                num_heads=2,
                hidden_dim=16,
                mlp_dim=32,
            ),
            rng.normal(size=(2, 16, 16, 3)).astype("float32"),
        ),
        "functional": (functional, rng.normal(size=(4, 8, 16)).astype("float32")),
    }
    out = {"folder": folder, "models": {}}
    for name, (model, x) in built.items():
        model.save(folder / f"{name}.keras")
        out["models"][name] = (model, x, model.predict(x, verbose=0))
    return out


@pytest.mark.parametrize("name", ["bert", "gpt2", "vit", "functional"])
def test_keras_hub_models_load_and_predict_as_the_originals(hub, name):
    import keras

    model, x, prediction = hub["models"][name]
    path = hub["folder"] / f"{name}.keras"
    card = scan_model_file(path)
    assert card.code_from == ("KerasHub",)
    assert card.num_params == model.count_params()
    # A backbone saves its constructor's arguments, not its layers: their count is unknown, not 0.
    assert card.num_layers == (len(model.layers) if name == "functional" else None)
    structure = model_structure(path)
    assert structure.num_params == model.count_params()
    assert all(layer.origin == "keras_hub" for layer in structure.layers) or name == "functional"

    loaded = load_model(path)
    assert type(loaded) is type(model)
    assert loaded.count_params() == model.count_params()
    got, want = keras.tree.flatten(loaded.predict(x, verbose=0)), keras.tree.flatten(prediction)
    assert len(got) == len(want) >= 1
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_a_keras_nlp_file_loads_through_keras_hub(hub, tmp_path):
    """KerasHub registers each class as 'keras_nlp>...' too, for files saved by KerasNLP."""
    model, x, prediction = hub["models"]["bert"]
    path = _with_config(
        hub["folder"] / "bert.keras",
        tmp_path / "nlp.keras",
        lambda c: c.update(
            module="keras_nlp.src.models.bert.bert_backbone",
            registered_name="keras_nlp>BertBackbone",
        ),
    )
    assert scan_model_file(path).code_from == ("KerasNLP",)
    loaded = load_model(path)
    assert loaded.count_params() == model.count_params()
    got = loaded.predict(x, verbose=0)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(got[key], prediction[key], rtol=1e-5, atol=1e-5)


def test_scan_of_a_keras_hub_model_imports_nothing(hub):
    code = (
        "import sys\n"
        "from neurogenesis.io.models import scan_model_file\n"
        f"card = scan_model_file({str(hub['folder'] / 'bert.keras')!r})\n"
        "print(card.code_from, sorted(m for m in ('tensorflow', 'keras', 'keras_hub') "
        "if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('KerasHub',) []"


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda c: c.update(class_name="NoSuchThing", registered_name="keras_hub>NoSuchThing"),
            r"names the class 'NoSuchThing' \(registered name 'keras_hub>NoSuchThing'\), which "
            r"the installed KerasHub 0\.\d+\.\d+ does not register",
        ),
        (
            # No registered name: Keras would import the module the file names and look the
            # class up in it.
            lambda c: c.update(
                module="keras_hub.src.models.bert", class_name="system", registered_name=None
            ),
            r"class 'system' \(registered name 'None'\), which the installed KerasHub",
        ),
        (
            lambda c: (c.pop("registered_name"), c.update(class_name="getattr")),
            r"class 'getattr' \(registered name 'getattr'\)",
        ),
        (
            lambda c: c.update(module="keras_hub.src.models.bert", class_name="os.system"),
            r"mentions 'os.system'",
        ),
        (
            # A registered KerasHub class under a different class name: the file is not what it
            # says it is.
            lambda c: c.update(class_name="GPT2Backbone"),
            r"class 'GPT2Backbone' \(registered name 'keras_hub>BertBackbone'\)",
        ),
        (
            lambda c: c.update(
                module="keras_nlp.src.models.bert.bert_backbone",
                registered_name="keras_nlp>NoSuchThing",
            ),
            r"'keras_nlp>NoSuchThing'\), which the installed KerasNLP",
        ),
        (
            lambda c: c["config"].update(vocabulary="/etc/passwd"),
            r"argument 'vocabulary' of layer 'bert_backbone' is the path or address '/etc/passwd'",
        ),
        (
            lambda c: c["config"].update(dtype={"class_name": "__lambda__", "config": {}}),
            r"inside layer 'bert_backbone' holds a Python lambda",
        ),
    ],
    ids=[
        "unregistered",
        "no-registered-name",
        "registered-name-missing",
        "os-system",
        "class-name-mismatch",
        "keras-nlp-unregistered",
        "vocabulary-path",
        "lambda-inside",
    ],
)
def test_keras_hub_lookalikes_are_refused(hub, tmp_path, edit, match):
    path = _with_config(hub["folder"] / "bert.keras", tmp_path / "lookalike.keras", edit)
    with pytest.raises(UnsafeModelError, match=match):
        load_model(path)


def test_a_class_registered_under_keras_hub_by_other_code_is_refused(hub, tmp_path, monkeypatch):
    """The registry must hand back an object KerasHub itself defined, not one that some other
    module registered under KerasHub's prefix."""
    import keras
    from keras.src.saving import object_registration

    class Impostor(keras.layers.Layer):
        pass

    monkeypatch.setitem(object_registration.GLOBAL_CUSTOM_OBJECTS, "keras_hub>Impostor", Impostor)
    path = _with_config(
        hub["folder"] / "bert.keras",
        tmp_path / "impostor.keras",
        lambda c: c.update(class_name="Impostor", registered_name="keras_hub>Impostor"),
    )
    with pytest.raises(UnsafeModelError, match=r"'keras_hub>Impostor'\), which the installed"):
        load_model(path)


def test_lambda_layer_inside_a_functional_model_with_keras_hub_layers_is_refused(hub, tmp_path):
    def edit(config):
        layers = config["config"]["layers"]
        head = next(entry for entry in layers if entry["config"]["name"] == "head")
        head.update(module="keras.layers", class_name="Lambda", registered_name=None)
        head["config"]["function"] = {"class_name": "__lambda__", "config": {"code": "AAAA"}}

    path = _with_config(hub["folder"] / "functional.keras", tmp_path / "lambda.keras", edit)
    with pytest.raises(UnsafeModelError, match=r"layer 'head' is a Lambda layer"):
        scan_model_file(path)
    with pytest.raises(UnsafeModelError, match=r"layer 'head' is a Lambda layer"):
        load_model(path)


def test_keras_hub_model_without_keras_hub_names_the_pip_command(hub, monkeypatch):
    # None in sys.modules is how Python marks a package that cannot be imported.
    monkeypatch.setitem(sys.modules, "keras_hub", None)
    for loader in (scan_model_file, load_model):
        with pytest.raises(InputError, match=r"needs KerasHub: pip install keras-hub") as caught:
            loader(hub["folder"] / "gpt2.keras")
        assert not isinstance(caught.value, UnsafeModelError)
        assert "layer 'gpt2_backbone' uses the class 'GPT2Backbone' from KerasHub" in str(
            caught.value
        )
