"""The ``neurogenesis`` command (also ``python -m neurogenesis``).

Exit codes: 0 on success (a damaged log that was read, with its problems reported, is a success);
2 with a one-line message on stderr, and no traceback, for refused or unusable input.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from neurogenesis.compute import ClusterError
from neurogenesis.errors import InputError

EXIT_OK = 0
EXIT_INPUT_ERROR = 2
EXIT_CLUSTER_ERROR = 3
APP_FILE = Path(__file__).resolve().parent.parent / "app.py"


def _quiet_tensorflow() -> None:
    """Imports TensorFlow with its C++ start-up chatter silenced, so stderr carries only our answer.

    TensorFlow's native libraries log (oneDNN notes, CPU feature hints) through absl before any
    log level applies, so the process's stderr is pointed at /dev/null for the import alone.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _AttributionNames(Sequence):
    """Names whose one home is :mod:`neurogenesis.analysis.attribution` (its ``METHODS``,
    ``BASELINES``), read the first time argparse needs them: building the parser stays
    stdlib-only for every verb, as importing the analysis (NumPy) takes a second or more."""

    def __init__(self, name: str):
        self._name = name

    @functools.cached_property
    def _names(self) -> tuple[str, ...]:
        from neurogenesis.analysis import attribution

        return tuple(getattr(attribution, self._name))

    def __getitem__(self, index):
        return self._names[index]

    def __len__(self) -> int:
        return len(self._names)


def _add_lazy_choices(parser: argparse.ArgumentParser, option: str, name: str, **kwargs) -> None:
    """``parser.add_argument(option, choices=attribution.<name>, **kwargs)``, the names read when
    first shown or checked (:class:`_AttributionNames`)."""
    # add_argument formats the usage once to check the metavar, which would read the choices:
    # a metavar stands in for that check, then the usage and help list the choices as usual.
    action = parser.add_argument(
        option, choices=_AttributionNames(name), metavar=name.lower(), **kwargs
    )
    action.metavar = None


def _code_options() -> argparse.ArgumentParser:
    """The options of every verb that loads a model: which code beyond Keras's may run."""
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("code in model files (only whoever starts the command)")
    group.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="MODULE_OR_FILE",
        help="import this module (or .py file) of your own once, so that the classes it "
        "registers with keras.saving.register_keras_serializable load from model files "
        "(repeatable; it runs that code)",
    )
    group.add_argument(
        "--unsafe-allow-lambda",
        action="store_true",
        help="let model files with Lambda layers load: the Python code stored in them runs "
        "(with the app, in every file anyone uploads). Only for files you trust",
    )
    return options


def _output_options() -> argparse.ArgumentParser:
    """The option of every verb that runs a model on samples: which output to explain or score."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--output",
        metavar="NAME",
        default=None,
        help="for a model of several outputs, the one to explain or score (an output's name, as "
        "'neurogenesis inspect' lists them; default: the first)",
    )
    return options


def _cluster_options() -> argparse.ArgumentParser:
    """The options of every verb whose heavy work can run on a Ray cluster."""
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group(
        "where the work runs (default: this machine; a cluster needs pip install "
        "'neurogenesis[ray]')"
    )
    group.add_argument(
        "--ray",
        metavar="auto|local|ADDRESS",
        default=None,
        help="run the heavy work on a Ray cluster: 'auto' joins the cluster this machine belongs "
        "to (started with `ray start`), 'local' starts a Ray instance on this machine, ADDRESS is "
        "ray://host:10001 or host:6379. The model travels as its file's bytes",
    )
    group.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="Ray workers to use (default: one per CPU of the cluster)",
    )
    group.add_argument(
        "--gpus-per-worker",
        type=float,
        default=0.0,
        metavar="G",
        help="GPUs each Ray worker reserves (default 0; 1 gives every worker a GPU of its own)",
    )
    return options


def _compute_target(args: argparse.Namespace):
    """The ``ComputeTarget`` that ``--ray``, ``--workers`` and ``--gpus-per-worker`` name."""
    from neurogenesis.compute import parse_target

    return parse_target(
        getattr(args, "ray", None),
        getattr(args, "workers", None),
        getattr(args, "gpus_per_worker", 0.0) or 0.0,
    )


LAMBDA_WARNING = (
    "warning: --unsafe-allow-lambda: Lambda layers in model files will run the Python code "
    "stored in them{where}. Open only files you trust."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurogenesis",
        description="See inside Keras models: a dashboard, and the same analyses from the shell.",
    )
    from neurogenesis import __version__

    parser.add_argument("--version", action="version", version=f"neurogenesis {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    code = [_code_options()]
    runs_model = [*code, _output_options()]  # verbs that run the model on a sample set
    cluster = [_cluster_options()]  # verbs whose heavy work can run on a Ray cluster

    app = verbs.add_parser(
        "app",
        parents=[*code, *cluster],
        help="start the dashboard",
        description="Start the dashboard on the bundled demos plus the logs and models you name, "
        "like `tensorboard --logdir`. The same flags work as `streamlit run app.py -- --logdir DIR`.",
    )
    app.add_argument(
        "--logdir",
        action="append",
        default=[],
        metavar="DIR",
        help="a log folder or file (repeatable)",
    )
    app.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="FILE",
        help="a .keras or .h5 model (repeatable)",
    )
    app.add_argument(
        "--samples",
        action="append",
        default=[],
        metavar="PATH",
        help="a sample set: .npz, images, .txt (repeatable)",
    )
    app.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    app.add_argument(
        "--address", default=None, help="address to bind (default: Streamlit's, all interfaces)"
    )
    app.add_argument(
        "--no-demos", action="store_true", help="show only what you name, not the bundled demos"
    )

    inspect = verbs.add_parser(
        "inspect",
        parents=code,
        help="load a model safely and print its architecture",
        description="Pre-scan and load a .keras or .h5 model with safe_mode, then print its layers. "
        "Refused or broken files exit with code 2 and the reason.",
    )
    inspect.add_argument("model", metavar="MODEL", help="a .keras or .h5 file")
    inspect.add_argument(
        "--json",
        action="store_true",
        help="print JSON: num_params, num_trainable_params, macs (multiply-accumulates per sample), layers",
    )
    inspect.add_argument(
        "--figure",
        metavar="PATH",
        help="also write the graph view to PATH (.html, .png, .svg or .pdf; images need Chromium)",
    )
    inspect.add_argument(
        "--expand",
        choices=("auto", "all", "none"),
        default="auto",
        help="which blocks the figure draws open: as many as fit in 60 nodes (auto), all, none",
    )
    inspect.add_argument(
        "--direction",
        choices=("top-down", "left-to-right"),
        default="top-down",
        help="the figure's layout direction",
    )

    logs = verbs.add_parser(
        "logs",
        help="list the runs, tags and damage found under a log path",
        description="Read TensorBoard event files, Keras CSVLogger files, JSON histories and NeuroGenesis "
        "run folders under PATH, every point, and report damage (truncation, corruption, restarts).",
    )
    logs.add_argument("path", metavar="PATH", help="a log folder or a single log file")
    logs.add_argument(
        "--json",
        action="store_true",
        help="print JSON: runs with their scalars, histograms and problems",
    )
    logs.add_argument(
        "--no-cache", action="store_true", help="parse again instead of using the on-disk cache"
    )
    demo = verbs.add_parser(
        "demo",
        help="rebuild the bundled demo models, runs and sample sets",
        description="Train the demo scenarios with a fixed seed and write models/<scenario>.keras "
        "(+ a .json card), data/runs/<scenario>/, data/sweeps/<scenario>/ and "
        "data/samples/<scenario>.npz.",
    )
    demo.add_argument(
        "--scenario", action="append", default=[], help="only these scenarios (repeatable)"
    )
    demo.add_argument(
        "--quick",
        action="store_true",
        help="tiny data, epochs and sweeps: checks the pipeline in about a minute (for CI; "
        "use with --output, as the committed demos are full builds)",
    )
    demo.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="train for this many epochs (default: each scenario's own)",
    )
    demo.add_argument(
        "--output",
        default=None,
        metavar="DIR",
        help="write models/ and data/ under DIR (default: the repository)",
    )
    train = verbs.add_parser(
        "train",
        help="train one demo scenario into a run folder, recorded with RunRecorder",
        description="Train a demo scenario's model once, recording everything the pages use into RUN_DIR. "
        "The dashboard runs this in the background for live training; create a file named STOP in "
        "RUN_DIR to stop after the current batch.",
    )
    train.add_argument(
        "scenario", metavar="SCENARIO", help="a demo scenario name (see `neurogenesis demo --help`)"
    )
    train.add_argument("--run-dir", required=True, metavar="DIR", help="the run folder to write")
    train.add_argument(
        "--epochs", type=int, default=None, help="epochs (default: the scenario's own)"
    )
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sweep = verbs.add_parser(
        "sweep",
        parents=cluster,
        help="sweep a demo scenario's hyperparameters into a folder, one recorded run per point",
        description="Train a demo scenario once per point of a grid (default: the scenario's own "
        "demo grid) or of a random draw, each point a light recorded run in DIR/<point>; "
        "DIR/sweep.json is rewritten after every point. Create a file named STOP in DIR to stop. "
        "With --ray, Ray Tune runs the points as trials on the cluster (--workers at once), "
        "and can also search with Optuna's TPE (--search tpe) and stop trials that fall behind "
        "(--asha); DIR must then be a folder every worker can write (a shared path; with --ray "
        "local, this machine's disk). A trial whose worker dies is run again.",
        epilog="example: neurogenesis sweep digits_cnn --out /shared/sweeps/digits --ray auto "
        "--search tpe --random 16 --asha",
    )
    sweep.add_argument(
        "scenario", metavar="SCENARIO", help="a demo scenario name (see `neurogenesis demo --help`)"
    )
    sweep.add_argument("--out", required=True, metavar="DIR", help="the sweep folder to write")
    sweep.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="values of one parameter, e.g. learning_rate=0.001,0.003 (repeatable; replaces that "
        "parameter's default values, or its random choices with --random)",
    )
    sweep.add_argument(
        "--random",
        type=int,
        default=None,
        metavar="N",
        help="N random points instead of a grid (with --search tpe: N trials; default 8)",
    )
    sweep.add_argument("--seed", type=int, default=0, help="seed of the random points (default 0)")
    sweep.add_argument(
        "--points", default=None, metavar="JSON", help="the points as a JSON list (the dashboard)"
    )
    sweep.add_argument(
        "--epochs", type=int, default=None, help="epochs per point (default: the scenario's own)"
    )
    sweep.add_argument(
        "--search",
        choices=("grid", "random", "tpe"),
        default=None,
        help="how points are chosen: every point of the grid, --random N random points, or N "
        "trials of Optuna's TPE over the scenario's random space (--seed seeds it; tpe needs "
        "--ray). Default: random with --random, else grid",
    )
    sweep.add_argument(
        "--asha",
        action="store_true",
        help="with --ray: stop trials whose metric falls behind the others' after each epoch "
        "(Ray Tune's ASHA scheduler); a stopped trial's run says how many epochs it trained",
    )
    saliency = verbs.add_parser(
        "saliency",
        parents=[*runs_model, *cluster],
        help="attribution maps of a model's predictions for a sample set",
        description="Explain a model's output for each sample of a .npz sample set and write the "
        "maps to a .npz: 'maps' (N, H, W), non-negative; 'attributions' (N, H, W, C), signed, for "
        "the gradient methods; 'target' (N,), the explained class. Methods explain the output for "
        "the target class as the model returns it: the probability where the model ends in softmax "
        "(--score logit explains the value before the softmax instead, found by rebuilding the last "
        "layer without its activation). Integrated gradients start from an all-zeros baseline "
        "(--baseline) with at least 50 steps, and their completeness error is measured against the "
        "same score. Text models (token ids) get one score per token: maps and attributions (N, T). "
        "A model of several inputs (a .npz of arrays named after them) is explained per input: "
        "'maps_NAME' and 'attributions_NAME' for each float input NAME (gradient methods explain "
        "every float input at once, occlusion one at a time, CAM methods the image input; "
        "'completeness_error' of integrated gradients is over all inputs); a text model's token "
        "ids are attributed at their embedding with its other inputs (padding_mask, segment_ids) "
        "fed as they are: 'maps_NAME' and 'attributions_NAME' of the token input (N, T), padded "
        "tokens 0, and 'real' (N, T), true at the tokens the padding mask keeps.",
    )
    saliency.add_argument("model", metavar="MODEL", help="a .keras or .h5 file")
    saliency.add_argument("--data", required=True, metavar="NPZ", help="a .npz sample set with x")
    _add_lazy_choices(saliency, "--method", "METHODS", required=True)
    saliency.add_argument(
        "--layer", metavar="NAME", help="the CAM methods' layer (default: the last convolution)"
    )
    saliency.add_argument(
        "--target",
        type=int,
        metavar="CLASS",
        help="the class to explain (default: the predicted one)",
    )
    saliency.add_argument(
        "--steps",
        type=int,
        metavar="N",
        help="integrated-gradient steps (default 64, at least 50) or SmoothGrad noise samples",
    )
    saliency.add_argument("--score", choices=("probability", "logit"), default="probability")
    _add_lazy_choices(saliency, "--baseline", "BASELINES", default="zeros")
    saliency.add_argument(
        "--out", required=True, metavar="FILE.npz", help="where to write the maps"
    )
    saliency.add_argument(
        "--figure",
        metavar="PATH",
        help="also draw the first sample's map (.html, .png, .svg, .pdf)",
    )

    project = verbs.add_parser(
        "project",
        parents=[*runs_model, *cluster],
        help="project a layer's hidden states of a sample set to 2-D or 3-D",
        description="Read the hidden states of one layer for every sample (pooled over space or "
        "time), project them with PCA, t-SNE or UMAP (no sample cap) and write 'coords' (N, dims), "
        "and 'labels' when the set has them, to a .npz. A model of several inputs reads a .npz "
        "of arrays named after them; with a padding-mask input, the pooling of a token "
        "sequence skips padding (mean and max over the real tokens, first and last the first "
        "and last real token).",
    )
    project.add_argument("model", metavar="MODEL", help="a .keras or .h5 file")
    project.add_argument("--data", required=True, metavar="NPZ", help="a .npz sample set with x")
    project.add_argument(
        "--layer",
        required=True,
        metavar="NAME",
        help="a layer path, e.g. 'pool' or 'encoder/z_mean'",
    )
    project.add_argument("--method", choices=("pca", "tsne", "umap"), default="pca")
    project.add_argument("--dims", type=int, choices=(2, 3), default=2)
    project.add_argument(
        "--pooling", default="auto", help="auto, mean, max, flatten, first or last"
    )
    project.add_argument("--seed", type=int, default=0)
    project.add_argument(
        "--out", required=True, metavar="FILE.npz", help="where to write the coordinates"
    )
    project.add_argument(
        "--figure", metavar="PATH", help="also draw the projection (.html, .png, .svg, .pdf)"
    )
    attention = verbs.add_parser(
        "attention",
        parents=runs_model,
        help="the attention scores of every MultiHeadAttention layer for a sample set",
        description="Run the samples of a .npz set through the model and write, for every "
        "keras.layers.MultiHeadAttention layer, its scores exactly as the layer returns them with "
        "return_attention_scores=True: one array per layer, keyed by the layer's name (nested "
        "layers as 'outer/inner'), shaped (N, num_heads, T, S).",
    )
    attention.add_argument("model", metavar="MODEL", help="a .keras or .h5 file")
    attention.add_argument("--data", required=True, metavar="NPZ", help="a .npz sample set with x")
    attention.add_argument(
        "--out", required=True, metavar="FILE.npz", help="where to write the scores"
    )
    attention.add_argument(
        "--figure",
        metavar="PATH",
        help="also draw the first sample's model view, layers x heads (.html, .png, .svg, .pdf)",
    )
    compare = verbs.add_parser(
        "compare",
        parents=code,
        help="two classifiers on the same samples: accuracies, disagreements, McNemar, bootstrap CI",
        description="Run two models on the same .npz sample set (with labels y) and compare them with "
        "real statistics: McNemar's exact test (two-sided binomial on the discordant pairs) and a "
        "paired bootstrap confidence interval of the accuracy difference (A - B).",
    )
    compare.add_argument("model_a", metavar="MODEL_A", help="a .keras or .h5 file")
    compare.add_argument("model_b", metavar="MODEL_B", help="a .keras or .h5 file")
    compare.add_argument(
        "--data", required=True, metavar="NPZ", help="a .npz sample set with x and y"
    )
    compare.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples")
    compare.add_argument("--seed", type=int, default=0)
    compare.add_argument(
        "--json",
        action="store_true",
        help='print JSON: {"accuracy_a", "accuracy_b", "num_disagreements", "mcnemar_p_value", '
        '"accuracy_difference_ci", ...}',
    )

    adversarial = verbs.add_parser(
        "adversarial",
        parents=[*runs_model, *cluster],
        help="FGSM or PGD adversarial examples (L-infinity) for a sample set",
        description="Perturb each sample within an L-infinity ball of radius --epsilon (in the "
        "input's own units: 8 means 8 of 255 for uint8 images), clipped to the sample set's value "
        "range, to change the model's prediction; writes x_adv to a .npz.",
    )
    adversarial.add_argument("model", metavar="MODEL", help="a .keras or .h5 file")
    adversarial.add_argument(
        "--data", required=True, metavar="NPZ", help="a .npz sample set with x (and y)"
    )
    adversarial.add_argument("--method", required=True, choices=("fgsm", "pgd"))
    adversarial.add_argument("--epsilon", required=True, type=float, metavar="E")
    adversarial.add_argument(
        "--steps", type=int, default=10, metavar="N", help="PGD steps (default 10)"
    )
    adversarial.add_argument(
        "--out", required=True, metavar="FILE.npz", help="where to write x_adv"
    )
    adversarial.add_argument(
        "--json",
        action="store_true",
        help='print JSON: {"clean_accuracy", "adversarial_accuracy", ...}',
    )
    landscape = verbs.add_parser(
        "landscape",
        parents=[*runs_model, *cluster],
        help="the loss over a plane of weights around a trained model",
        description="Evaluate the loss (and the compiled metrics) on an R x R grid of weights "
        "theta + alphas[i] * direction_x + betas[j] * direction_y around the model's own weights "
        "theta (Li et al. 2018) and write to a .npz: 'alphas' (R,), 'betas' (R,), 'loss' (R, R) with "
        "loss[i, j] at alphas[i], betas[j]; 'direction_x' and 'direction_y', flat float32 over "
        "model.trainable_variables in order, each variable flattened in C order; 'metric_names' "
        "and 'values' (M, R, R), values[0] being the loss; with --run, 'trajectory' (T, 2), the "
        "run's checkpoints projected onto the plane, with 'trajectory_labels'. Random directions "
        "are Gaussian and filter-normalized (biases and normalization parameters stay put); pca "
        "directions are the top two principal directions of the run's checkpoints. "
        "BatchNormalization runs in inference mode. The target is the set's y, except for an "
        "autoencoder: when the model's output has the shape of one sample of x and y does not "
        "(the set has no y, or class ids beside images), the target is x itself.",
    )
    landscape.add_argument("model", metavar="MODEL", help="a .keras or .h5 file")
    landscape.add_argument(
        "--data", required=True, metavar="NPZ", help="a .npz sample set with x (and y)"
    )
    # Defaults are None here and analysis.landscape's constants in _landscape: importing that
    # module costs every verb most of a second.
    landscape.add_argument(
        "--resolution", type=int, metavar="R", help="grid points per side, 3 to 101 (default 21)"
    )
    landscape.add_argument(
        "--span",
        type=float,
        metavar="S",
        help="random: the grid runs from -S to S on both axes; pca: the margin around the "
        "trajectory, S quarters of its extent (default 1.0)",
    )
    landscape.add_argument(
        "--seed", type=int, metavar="K", help="seed of the random directions (default 0)"
    )
    landscape.add_argument(
        "--loss",
        metavar="NAME",
        help="a Keras loss name (mse, mae, sparse_categorical_crossentropy, ...). Default: the "
        "loss the model file was compiled with; given, it overrides that one. Required when the "
        "file holds no compiled loss.",
    )
    landscape.add_argument("--directions", choices=("random", "pca"), default="random")
    landscape.add_argument(
        "--run",
        metavar="DIR",
        help="a run folder of this model recorded by RunRecorder, with checkpoints: needed for "
        "--directions pca; with random directions its path is projected onto the plane",
    )
    landscape.add_argument(
        "--num-samples",
        type=int,
        metavar="N",
        help="evaluate the loss on the first N samples, at most 4096 (default 512)",
    )
    landscape.add_argument(
        "--out", required=True, metavar="FILE.npz", help="where to write the landscape"
    )
    landscape.add_argument(
        "--figure", metavar="PATH", help="also draw the surface in 3-D (.html, .png, .svg, .pdf)"
    )
    from neurogenesis import figures as paper  # stdlib only at import: cheap for every verb

    figures = verbs.add_parser(
        "figures",
        help="regenerate the paper's eight figures from the demo zoo",
        description="Write the paper's eight figures (loss landscape, metric correlation, training "
        "dynamics, hyperparameter surface, model complexity, system architecture, convergence "
        "analysis, attention evolution) from the bundled demo models, runs and sweeps to "
        "DIR/fig1_loss_landscape.png ... DIR/fig8_attention_evolution.html, through the Python "
        "API (neurogenesis.visualization.TrainingVisualizer). Static images are rendered by one "
        "browser for all figures. Without kaleido or a Chrome/Chromium browser the HTML files are "
        "still written, PNG (SVG, PDF) is skipped with a warning, and the exit code is 0; a "
        "figure that cannot be made (a demo file missing) gives exit code 2 after the others are "
        "written.",
    )
    figures.add_argument("--out", required=True, metavar="DIR", help="where to write the figures")
    figures.add_argument(
        "--style",
        choices=("default", "publication"),
        default="default",
        help="publication: white background, larger fonts, colour-blind-safe colours "
        "(default: the dashboard's look)",
    )
    figures.add_argument(
        "--formats",
        default=",".join(paper.DEFAULT_FORMATS),
        metavar="LIST",
        help=f"comma-separated, from png, svg, pdf, html (default {','.join(paper.DEFAULT_FORMATS)})",
    )
    figures.add_argument(
        "--resolution",
        type=int,
        default=paper.DEFAULT_LANDSCAPE_RESOLUTION,
        metavar="R",
        help="the loss landscape's grid points per side, 3 to 101 "
        f"(default {paper.DEFAULT_LANDSCAPE_RESOLUTION})",
    )
    figures.add_argument(
        "--num-samples",
        type=int,
        default=paper.DEFAULT_LANDSCAPE_SAMPLES,
        metavar="N",
        help="samples the loss landscape averages over, at most 4096 "
        f"(default {paper.DEFAULT_LANDSCAPE_SAMPLES})",
    )
    figures.add_argument(
        "--scale",
        type=float,
        default=paper.DEFAULT_SCALE,
        metavar="S",
        help=f"PNG pixel density (default {paper.DEFAULT_SCALE})",
    )
    figures.add_argument(
        "--root",
        metavar="DIR",
        help="the folder with the demo zoo's models/ and data/ (default: the repository's)",
    )
    return parser


def _demo(args: argparse.Namespace) -> int:
    import logging

    _quiet_tensorflow()
    from neurogenesis.zoo import SCENARIOS

    unknown = sorted(set(args.scenario) - set(SCENARIOS))
    if unknown:
        raise InputError(
            f"Unknown scenario {', '.join(unknown)}. Expected one of: {', '.join(SCENARIOS)}."
        )
    if args.epochs is not None and args.epochs < 1:
        raise InputError(f"Expected at least 1 epoch. Received: --epochs {args.epochs}.")
    # Every recorded run traces its own probe functions; TensorFlow's retracing warnings about
    # that say nothing about the demos, whose results are printed below.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    root = Path(args.output).resolve() if args.output else APP_FILE.parent
    total = 0.0
    for name in args.scenario or list(SCENARIOS):
        facts = SCENARIOS[name].build(
            root / "models", root / "data", quick=args.quick, epochs=args.epochs
        )
        metric = facts["test_metric"]
        total += facts["seconds"]
        print(
            f"{name}: test {metric['name']} {metric['value']:.4g} after {facts['epochs']} epochs "
            f"({facts['seconds']:.0f} s) -> {facts['model']}",
            flush=True,
        )
    print(f"built in {total:.0f} s", flush=True)
    return EXIT_OK


def _train(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from neurogenesis.zoo import SCENARIOS

    if args.scenario not in SCENARIOS:
        raise InputError(
            f"Unknown scenario '{args.scenario}'. Expected one of: {', '.join(SCENARIOS)}."
        )
    facts = SCENARIOS[args.scenario].train(Path(args.run_dir), epochs=args.epochs, seed=args.seed)
    print(json.dumps(facts, default=str))
    return EXIT_OK


def _sweep(args: argparse.Namespace) -> int:
    from neurogenesis.io.run_folder import SWEEP_FILE
    from neurogenesis.zoo import parse_grid, plan_sweep, run_scenario_sweep, sweep_spec

    spec = sweep_spec(args.scenario)
    target = _compute_target(args)
    if target.is_local and (args.search == "tpe" or args.asha):
        chosen = "--search tpe" if args.search == "tpe" else "--asha"
        raise InputError(
            f"Expected --ray with {chosen}: Ray Tune runs TPE searches and ASHA early stopping "
            "(--ray local runs them on this machine). Received: no --ray."
        )
    if args.search == "grid" and args.random is not None:
        raise InputError(
            f"Expected --random N with --search random or tpe. Received: --search grid "
            f"--random {args.random}."
        )
    points = None
    grid = parse_grid(spec, args.grid)
    if args.points is not None:
        if args.grid or args.random is not None:
            raise InputError("Expected --points alone, without --grid or --random.")
        try:
            points = json.loads(args.points)
        except ValueError as error:
            raise InputError(f"Expected --points as a JSON list of points ({error}).") from error
        if not isinstance(points, list):
            raise InputError(f"Expected --points as a JSON list. Received: {args.points[:80]!r}.")
    elif target.is_local:
        random = args.random
        if args.search == "random" and random is None:
            from neurogenesis.compute.sweeps import DEFAULT_TRIALS

            random = DEFAULT_TRIALS
        points = plan_sweep(spec, grid=grid, random=random, seed=args.seed)
    if args.epochs is not None and args.epochs < 1:
        raise InputError(f"Expected at least 1 epoch. Received: --epochs {args.epochs}.")
    _quiet_tensorflow()

    def report(point: dict, summary: dict) -> None:
        best, metric = point["best"], summary["metric"]
        print(
            f"[{len(summary['points'])}/{summary.get('trials', len(summary['planned']))}] "
            f"{point['run']}: {metric} "
            f"{point['final'].get(metric)} (best {best.get(metric)} at epoch {best['epoch']})",
            flush=True,
        )

    if target.is_local:
        summary = run_scenario_sweep(
            args.scenario, args.out, points=points, epochs=args.epochs, progress=report
        )
    else:
        from neurogenesis.compute.sweeps import plan_from_arguments, run_tune_sweep

        plan = plan_from_arguments(
            args.scenario,
            search=args.search,
            points=points,
            grid=grid,
            random=args.random,
            seed=args.seed,
            asha=args.asha,
        )
        summary = run_tune_sweep(
            args.scenario, args.out, target, plan, epochs=args.epochs, progress=report
        )
    print(
        f"sweep {summary['status']}: {len(summary['points'])} of "
        f"{summary.get('trials', len(summary['planned']))} points "
        f"-> {Path(args.out) / SWEEP_FILE}",
        flush=True,
    )
    return EXIT_OK


def _write_graph_figure(model, args: argparse.Namespace) -> None:
    from neurogenesis.analysis.architecture import default_expanded, layout_graph, model_graph
    from neurogenesis.errors import ExportUnavailableError
    from neurogenesis.plotting.architecture import plot_graph
    from neurogenesis.plotting.export import write_figure

    graph = model_graph(model)
    expanded = {"auto": default_expanded(graph), "all": None, "none": ()}[args.expand]
    figure = plot_graph(
        layout_graph(graph, expanded), direction=args.direction.replace("-", " "), whole=True
    )
    try:
        path = write_figure(figure, args.figure)
    except ExportUnavailableError as error:
        raise InputError(str(error)) from error
    print(f"Wrote the graph of {model.name} to {path}", file=sys.stderr)


def _model_io(model) -> tuple[list[dict], list[dict]]:
    """The model's inputs (``name``, ``shape`` batch first, ``dtype``) and outputs (``name``,
    ``shape``), named as every analysis names them (``analysis.graph``); empty for a model
    without a graph."""
    from neurogenesis.analysis import graph

    if not graph.supports(model):
        return [], []
    inputs = [
        {"name": name, "shape": list(tensor.shape), "dtype": str(tensor.dtype)}
        for name, tensor in zip(graph.input_names(model), model.inputs, strict=True)
    ]
    outputs = [
        {"name": name, "shape": list(tensor.shape)}
        for name, tensor in zip(graph.output_names(model), model.outputs, strict=True)
    ]
    return inputs, outputs


def _structure_io(structure) -> tuple[list[dict], list[dict]]:
    """What the file says of a model's inputs and outputs without running it: each input's name,
    stated shape and dtype (None where the file does not say), each output's name (shape None)."""
    stated = {layer.name: layer for layer in structure.layers if layer.class_name == "InputLayer"}
    inputs = []
    for position, name in enumerate(structure.inputs):
        layer = stated.get(name)
        shape = (
            list(structure.input_shapes[position])
            if len(structure.input_shapes) == len(structure.inputs)
            else list(layer.input_shape)
            if layer is not None and layer.input_shape
            else None
        )
        dtype = None
        if layer is not None:
            try:
                dtype = json.loads(layer.config).get("dtype")
            except (ValueError, AttributeError):
                dtype = None
            if isinstance(dtype, dict):  # a DTypePolicy
                dtype = (dtype.get("config") or {}).get("name")
        inputs.append({"name": name, "shape": shape, "dtype": dtype})
    outputs = [{"name": name, "shape": None} for name in structure.outputs]
    return inputs, outputs


def _print_io(inputs: list[dict], outputs: list[dict]) -> None:
    """One line per input and output: name, shape (and dtype)."""
    from neurogenesis.analysis.architecture import shape_text

    for entry in inputs:
        shape = "unknown" if entry["shape"] is None else shape_text(tuple(entry["shape"]))
        print(f"Input  {entry['name']}: {shape} {entry.get('dtype') or ''}".rstrip())
    for entry in outputs:
        shape = "unknown (not run)" if entry["shape"] is None else shape_text(tuple(entry["shape"]))
        print(f"Output {entry['name']}: {shape}")


def _inspect(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from neurogenesis.analysis.architecture import architecture_summary, shape_text
    from neurogenesis.io.models import load_model

    if args.figure:
        from neurogenesis.plotting.export import FIGURE_FORMATS

        if Path(args.figure).suffix.lower().lstrip(".") not in FIGURE_FORMATS:  # before loading
            raise InputError(
                f"Expected a figure file ending in {', '.join('.' + f for f in FIGURE_FORMATS)}. "
                f"Received: '{Path(args.figure).name}'"
            )
    try:
        model = load_model(args.model)
    except InputError as error:
        return _inspect_structure(args, error)
    info = architecture_summary(model)
    if args.figure:
        _write_graph_figure(model, args)
    inputs, outputs = _model_io(model)
    if args.json:
        print(
            json.dumps(
                {**info.to_dict(), "runnable": True, "inputs": inputs, "outputs": outputs},
                indent=2,
            )
        )
        return EXIT_OK
    rows = [
        (
            layer.name,
            layer.class_name,
            shape_text(layer.output_shape),
            f"{layer.num_params:,}",
            "—" if layer.macs is None else f"{layer.macs:,}",
        )
        for layer in info.layers
    ]
    print(f"Model: {info.name} ({info.model_class})")
    _print_io(inputs, outputs)
    _print_table(("Layer", "Class", "Output shape", "Params", "MACs"), rows, right=(3, 4))
    print(
        f"Total params: {info.num_params:,}  (trainable {info.num_trainable_params:,}, non-trainable {info.num_params - info.num_trainable_params:,})"
    )
    if info.macs is not None:
        print(f"Multiply-accumulates per sample: {info.macs:,} ({info.macs / 1e6:,.2f} M)")
    return EXIT_OK


def _inspect_structure(args: argparse.Namespace, error: InputError) -> int:
    """``inspect`` of a model that cannot be loaded: its structure, read without running it,
    with the reason (or the load error alone when not even the structure can be read)."""
    from neurogenesis.io.structure import model_structure

    try:
        structure = model_structure(args.model, reason=str(error))
    except InputError:
        raise error from None
    if args.figure:
        print(
            f"No figure: {args.figure} needs the model to run, and it cannot ({error}).",
            file=sys.stderr,
        )
    inputs, outputs = _structure_io(structure)
    if args.json:
        print(json.dumps({**structure.to_dict(), "inputs": inputs, "outputs": outputs}, indent=2))
        return EXIT_OK
    rows = [
        (
            "  " * layer.depth + layer.name,
            layer.class_name,
            layer.origin,
            "?" if layer.num_params is None else f"{layer.num_params:,}",
            ", ".join(layer.inbound),
        )
        for layer in structure.layers
    ]
    print(f"Model: {structure.name} ({structure.model_class}) — structure only, not run")
    print(f"Why: {structure.reason}")
    _print_io(inputs, outputs)
    _print_table(("Layer", "Class", "From", "Params", "Inputs"), rows, right=(3,))
    print(f"Total params: {structure.num_params:,} (from the weights stored in the file)")
    return EXIT_OK


def _print_table(headers: tuple[str, ...], rows: list[tuple[str, ...]], right=()) -> None:
    """A plain-text table: columns as wide as their widest cell, ``right`` ones right-aligned."""
    widths = [max([len(headers[i]), *(len(row[i]) for row in rows)]) for i in range(len(headers))]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print(
            "  ".join(
                cell.rjust(w) if i in right else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    print("-" * len(line))


def _logs(args: argparse.Namespace) -> int:
    from neurogenesis.io.logs import find_runs

    runs = find_runs(args.path, use_cache=not args.no_cache)
    if args.json:
        print(
            json.dumps(
                {"runs": [run.summary_dict() for run in runs]},
                indent=2,
                allow_nan=False,
                default=str,
            )
        )
        return EXIT_OK
    for run in runs:
        summary = run.summary_dict()
        print(
            f"{run.name}  [{run.format}]  {len(summary['scalars'])} scalar tag(s), {len(summary['histograms'])} histogram tag(s)"
        )
        for tag, facts in summary["scalars"].items():
            extra = []
            if facts.get("num_nonfinite"):
                extra.append(f"{facts['num_nonfinite']} NaN/Inf")
            if facts.get("num_missing"):
                extra.append(f"{facts['num_missing']} missing")
            note = f"  ({', '.join(extra)})" if extra else ""
            print(
                f"  scalar     {tag}: {facts['num_points']} points, steps {facts['first_step']}..{facts['last_step']}{note}"
            )
        for tag, facts in summary["histograms"].items():
            print(f"  histogram  {tag}: {facts['num_steps']} steps")
        for problem in summary["problems"]:
            unit = "line" if run.format == "csv" else "byte"
            where = f" at {unit} {problem['offset']}" if problem.get("offset") is not None else ""
            print(f"  problem    {problem['kind']}{where}: {problem['message']}")
    return EXIT_OK


def _check_figure_path(path: str | None) -> None:
    if not path:
        return
    from neurogenesis.plotting.export import FIGURE_FORMATS

    if Path(path).suffix.lower().lstrip(".") not in FIGURE_FORMATS:
        raise InputError(
            f"Expected a figure file ending in {', '.join('.' + f for f in FIGURE_FORMATS)}. "
            f"Received: '{Path(path).name}'"
        )


def _check_out(path: str) -> Path:
    out = Path(path)
    if out.suffix.lower() != ".npz":
        raise InputError(f"Expected an output file ending in .npz. Received: '{out.name}'")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def _save_figure(figure, path: str, what: str) -> None:
    from neurogenesis.errors import ExportUnavailableError
    from neurogenesis.plotting.export import write_figure

    try:
        written = write_figure(figure, path)
    except ExportUnavailableError as error:
        raise InputError(str(error)) from error
    print(f"Wrote {what} to {written}", file=sys.stderr)


def _model_and_samples(args: argparse.Namespace):
    _quiet_tensorflow()
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    if Path(args.data).suffix.lower() != ".npz":
        raise InputError(
            f"Expected a .npz sample set for --data. Received: '{Path(args.data).name}'"
        )
    samples = load_samples(args.data)
    model = load_model(args.model)
    output = getattr(args, "output", None)
    if output is not None:
        from neurogenesis.analysis.graph import with_output

        model = with_output(model, output)
    return model, samples


def _cluster_payload(args: argparse.Namespace, where, count: int):
    """The model's bytes for the cluster ``where`` names (None on this machine), said on stderr."""
    if where.is_local:
        return None
    from neurogenesis.compute.jobs import DEFAULT_SHARD_SIZE
    from neurogenesis.compute.payload import payload_from_path

    shards = max(1, -(-count // DEFAULT_SHARD_SIZE))
    workers = f"{where.workers} workers" if where.workers else "one worker per CPU"
    print(
        f"Computing on {where.describe()}: {workers}, {shards} shard{'s' if shards > 1 else ''} "
        "of the samples",
        file=sys.stderr,
    )
    return payload_from_path(args.model, getattr(args, "output", None))


def _saliency(args: argparse.Namespace) -> int:
    import numpy as np

    _check_figure_path(args.figure)
    out = _check_out(args.out)
    where = _compute_target(args)
    model, samples = _model_and_samples(args)
    from neurogenesis.analysis import attribution
    from neurogenesis.analysis.graph import graph_layers
    from neurogenesis.compute import jobs

    layers = graph_layers(model)
    options: dict = {"score": args.score}
    if args.target is not None:
        options["target"] = args.target
    several = len(layers.input_dtypes) > 1
    text = bool(layers.input_dtypes) and all(
        "int" in dtype or "bool" in dtype for dtype in layers.input_dtypes
    )
    if text:
        if args.method not in attribution.TOKEN_METHODS:
            raise InputError(
                "A model that reads token ids is explained per token with "
                f"{' or '.join(map(repr, attribution.TOKEN_METHODS))}. Received: --method "
                f"{args.method}."
            )
        if args.steps is not None and args.method == "integrated_gradients":
            options["steps"] = args.steps
        payload = _cluster_payload(args, where, len(samples))
        info = jobs.attribution(
            model, samples.x, args.method, tokens=True, where=where, payload=payload, **options
        )
        suffix = f"_{attribution.token_input(model)}" if several else ""
        arrays = {
            "maps" + suffix: np.abs(info.scores).astype(np.float32),
            "attributions" + suffix: info.scores.astype(np.float32),
            "target": info.target,
        }
        if info.real is not None:
            arrays["real"] = info.real
    else:
        if args.method in attribution.CAM_METHODS and args.layer:
            options["layer"] = args.layer
        if args.steps is not None:
            if args.method == "integrated_gradients":
                options["steps"] = args.steps
            elif args.method == "smoothgrad":
                options["num_samples"] = args.steps
        if args.method == "integrated_gradients":
            options["baseline"] = args.baseline
        payload = _cluster_payload(args, where, len(samples))
        info = jobs.attribution(
            model, samples.x, args.method, where=where, payload=payload, **options
        )
        arrays = {"target": info.target}
        per_input = info.inputs if isinstance(info, attribution.InputsAttributionInfo) else None
        for name, one in (per_input or {"": info}).items():
            suffix = f"_{name}" if per_input is not None else ""
            arrays["maps" + suffix] = one.maps.astype(np.float32)
            if one.attributions is not None:
                arrays["attributions" + suffix] = one.attributions.astype(np.float32)
    completeness = getattr(info, "completeness_error", None)
    if completeness is not None:
        arrays["completeness_error"] = np.asarray(completeness, dtype=np.float32)
    np.savez_compressed(out, **arrays, method=np.array(args.method), score=np.array(args.score))
    summary = f"Wrote {args.method} maps of {len(samples):,} samples to {out}"
    if completeness is not None:
        from neurogenesis.plotting.attribution import completeness_summary

        summary += f" (completeness error: {completeness_summary(completeness)})"
    print(summary, file=sys.stderr)
    if args.figure:
        from neurogenesis.plotting.attribution import plot_attribution, plot_token_attribution

        if text:
            vocabulary = samples.extras.get("vocabulary")
            words = [
                str(vocabulary[t])
                if vocabulary is not None and 0 <= t < len(vocabulary)
                else str(t)
                for t in np.asarray(samples.input()[0], dtype=np.int64)
            ]
            figure = plot_token_attribution(info, words, 0)
        elif per_input is not None:
            name, one = next(iter(per_input.items()))
            figure = plot_attribution(one, np.asarray(samples.input(name)[0]), 0)
        else:
            figure = plot_attribution(info, np.asarray(samples.x[0]), 0)
        _save_figure(figure, args.figure, "the first sample's map")
    return EXIT_OK


def _project(args: argparse.Namespace) -> int:
    import numpy as np

    _check_figure_path(args.figure)
    out = _check_out(args.out)
    where = _compute_target(args)
    model, samples = _model_and_samples(args)
    from neurogenesis.analysis.embeddings import projection_info
    from neurogenesis.compute import jobs

    payload = _cluster_payload(args, where, len(samples))
    features = jobs.hidden_states(
        model, samples.x, args.layer, pooling=args.pooling, where=where, payload=payload
    )
    info = projection_info(features, args.method, dims=args.dims, seed=args.seed)
    arrays = {"coords": info.coords.astype(np.float32)}
    if samples.y is not None:
        arrays["labels"] = samples.y
    if info.explained_variance_ratio is not None:
        arrays["explained_variance_ratio"] = np.asarray(info.explained_variance_ratio)
    np.savez_compressed(out, **arrays, method=np.array(args.method), layer=np.array(args.layer))
    print(
        f"Wrote the {args.method} projection of {args.layer} for {len(samples):,} samples to {out} "
        f"({info.seconds:.1f} s)",
        file=sys.stderr,
    )
    if args.figure:
        from neurogenesis.plotting.embeddings import plot_projection

        figure = plot_projection(
            info,
            color=samples.y,
            color_kind="categorical"
            if samples.y is not None and samples.y.dtype.kind in "iu"
            else "continuous",
            category_names=list(samples.label_names) if samples.label_names else None,
        )
        _save_figure(figure, args.figure, "the projection")
    return EXIT_OK


def _write_model_view(scores: dict, samples, path: str) -> None:
    import numpy as np

    from neurogenesis.io.samples import padding_mask
    from neurogenesis.plotting.attention import plot_model_view

    layers = {name: values[0] for name, values in scores.items()}
    mask = padding_mask(samples.x[:1])
    if mask is not None:  # a set of several inputs: its padding left off the picture
        real = int(np.flatnonzero(mask[0])[-1]) + 1 if mask[0].any() else mask.shape[1]
        layers = {
            name: values[:, :real, :real] if values.shape[1:] == mask.shape[1:] * 2 else values
            for name, values in layers.items()
        }
    vocabulary = samples.extras.get("vocabulary")
    first = np.asarray(samples.input()[0])
    if mask is not None:
        first = first[:real]
    key_tokens = {
        name: (
            [str(vocabulary[t]) if 0 <= t < len(vocabulary) else str(t) for t in first.astype(int)]
            if vocabulary is not None and first.ndim == 1 and len(first) == values.shape[-1]
            else [f"k{i}" for i in range(values.shape[-1])]
        )
        for name, values in layers.items()
    }
    queries = {values.shape[1] for values in layers.values()}
    first_layer = next(iter(layers))
    tokens = (
        key_tokens[first_layer]
        if len(queries) == 1 and queries == {len(key_tokens[first_layer])}
        else None
    )
    _save_figure(plot_model_view(layers, tokens, key_tokens=key_tokens), path, "the model view")


def _attention(args: argparse.Namespace) -> int:
    import numpy as np

    _check_figure_path(args.figure)
    out = _check_out(args.out)
    model, samples = _model_and_samples(args)
    from neurogenesis.analysis.attention import attention_scores
    from neurogenesis.io.samples import padding_mask

    scores = attention_scores(model, samples.x)  # every input of the set, fed by name
    np.savez_compressed(out, **scores)
    if args.figure:
        _write_model_view(scores, samples, args.figure)
    shapes = ", ".join(f"{name} {tuple(values.shape)}" for name, values in scores.items())
    mask = padding_mask(samples.x)
    real = (
        f" (padding masked by the model: {int(mask.sum()):,} of {mask.size:,} tokens real)"
        if mask is not None
        else ""
    )
    print(
        f"Wrote the attention scores of {len(samples):,} samples to {out}: {shapes}{real}",
        file=sys.stderr,
    )
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from neurogenesis.analysis.evaluation import comparison_report
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    if Path(args.data).suffix.lower() != ".npz":
        raise InputError(
            f"Expected a .npz sample set for --data. Received: '{Path(args.data).name}'"
        )
    samples = load_samples(args.data)
    if samples.y is None:
        raise InputError(
            f"'{Path(args.data).name}' has no labels 'y'; comparing accuracy needs them."
        )
    if args.resamples < 100:
        raise InputError(f"Expected at least 100 bootstrap resamples. Received: {args.resamples}.")
    report = comparison_report(
        load_model(args.model_a),
        load_model(args.model_b),
        samples.x,
        samples.y,
        num_resamples=args.resamples,
        seed=args.seed,
    )
    if args.json:
        print(json.dumps(report, indent=2))
        return EXIT_OK
    low, high = report["accuracy_difference_ci"]
    print(f"accuracy A {report['accuracy_a']:.4f}   accuracy B {report['accuracy_b']:.4f}")
    print(
        f"difference A - B {report['accuracy_difference']:+.4f}, "
        f"{report['confidence']:.0%} paired bootstrap CI [{low:+.4f}, {high:+.4f}]"
    )
    print(
        f"{report['num_disagreements']} disagreements; McNemar exact p = "
        f"{report['mcnemar_p_value']:.4g} (A right/B wrong {report['mcnemar_b']}, "
        f"A wrong/B right {report['mcnemar_c']})"
    )
    return EXIT_OK


def _adversarial(args: argparse.Namespace) -> int:
    import numpy as np

    out = _check_out(args.out)
    where = _compute_target(args)
    model, samples = _model_and_samples(args)
    from neurogenesis.compute import jobs
    from neurogenesis.io.models import training_setup

    if args.epsilon <= 0:
        raise InputError(f"Expected --epsilon above 0. Received: {args.epsilon}.")
    # The saved loss tells a Dense(1) logit classifier (binary cross-entropy on logits) from a
    # regression when the samples carry no labels.
    loss = training_setup(args.model).loss
    options: dict = {"epsilon": args.epsilon, "loss": loss}
    if args.method == "pgd":
        if args.steps < 1:
            raise InputError(f"Expected at least 1 step. Received: --steps {args.steps}.")
        options["steps"] = args.steps
    payload = _cluster_payload(args, where, len(samples))
    info = jobs.adversarial(
        model, samples.x, samples.y, args.method, where=where, payload=payload, **options
    )
    labels = samples.y if samples.y is not None else np.zeros(0)
    if info.input_name is None:
        np.savez_compressed(out, x_adv=info.x_adv, y=labels)
    else:  # a sample set of the same inputs, the attacked one replaced: it loads and runs as is
        arrays = {name: samples.x[name] for name in samples.x.dtype.names}
        np.savez_compressed(out, **{**arrays, info.input_name: info.x_adv}, y=labels)
    summary = {
        "method": args.method,
        "attacked_input": info.input_name,
        "epsilon": float(args.epsilon),
        "steps": int(info.steps),
        "linf": float(info.linf),
        "clean_accuracy": None if info.clean_accuracy is None else float(info.clean_accuracy),
        "adversarial_accuracy": (
            None if info.adversarial_accuracy is None else float(info.adversarial_accuracy)
        ),
        "clean_error": None if info.clean_error is None else float(info.clean_error),
        "adversarial_error": None
        if info.adversarial_error is None
        else float(info.adversarial_error),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{args.method} at epsilon {args.epsilon:g}: accuracy {summary['clean_accuracy']} -> "
            f"{summary['adversarial_accuracy']} (largest change {info.linf:g}); x_adv in {out}"
        )
    return EXIT_OK


def _landscape_loss(args: argparse.Namespace, model, target, target_kind: str):
    """The loss to evaluate and the metrics: --loss, else the model file's compiled loss."""
    from neurogenesis.analysis import landscape
    from neurogenesis.io.models import training_setup

    setup = training_setup(args.model)
    if args.loss:
        return args.loss, setup.metrics
    name = Path(args.model).name
    if setup.loss is None and getattr(model, "output_name_chosen", None):
        # A chosen output of a model of several outputs: the file holds no loss of its own for
        # it, so it gets the one its activation and the labels suggest (its metrics are
        # unknown too).
        suggestion = landscape.suggested_loss(model, target, target_kind)
        print(
            f"note: '{name}' holds no loss for the output '{args.output}'; evaluating "
            f"{suggestion} (from the output's activation and the labels). --loss NAME chooses "
            "another.",
            file=sys.stderr,
        )
        return suggestion, ()
    if setup.loss is None:
        suggestion = landscape.suggested_loss(model, target, target_kind)
        raise InputError(
            f"'{name}' holds no loss to evaluate ({setup.note}). Expected --loss NAME (for this "
            f"model and sample set, probably --loss {suggestion}). Received: no --loss."
        )
    try:
        landscape._loss_function(setup.loss)
    except InputError as error:
        raise InputError(
            f"The loss '{name}' was compiled with cannot be rebuilt: {error} Choose one with "
            "--loss NAME."
        ) from None
    return setup.loss, setup.metrics


def _landscape(args: argparse.Namespace) -> int:
    import time

    import numpy as np

    _check_figure_path(args.figure)
    out = _check_out(args.out)
    from neurogenesis.analysis import landscape

    resolution = landscape.DEFAULT_RESOLUTION if args.resolution is None else args.resolution
    span = landscape.DEFAULT_SPAN if args.span is None else args.span
    seed = landscape.DEFAULT_SEED if args.seed is None else args.seed
    num_samples = landscape.DEFAULT_NUM_SAMPLES if args.num_samples is None else args.num_samples
    landscape.check_grid(resolution, span)
    if not 1 <= num_samples <= landscape.MAX_NUM_SAMPLES:
        raise InputError(
            f"Expected --num-samples between 1 and {landscape.MAX_NUM_SAMPLES}. "
            f"Received: {num_samples}."
        )
    if args.directions == "pca" and not args.run:
        raise InputError(
            "Expected --run DIR with --directions pca: the plane is spanned by the checkpoints "
            "of a recorded run of this model. Received: no --run."
        )
    where = _compute_target(args)
    model, samples = _model_and_samples(args)
    from neurogenesis.io.models import training_setup

    named = args.loss or training_setup(args.model).loss  # a crossentropy reads y as class ids
    reason = landscape.loss_reason(model, samples.x, samples.y, named)
    if reason:  # a backbone's features
        raise InputError(reason)
    target, target_kind = landscape.landscape_targets(model, samples.x, samples.y, named)
    loss, metrics = _landscape_loss(args, model, target, target_kind)
    checkpoints = landscape.recorded_checkpoints(model, args.run) if args.run else []
    count = min(num_samples, len(samples.x))
    start = time.perf_counter()
    evaluator = landscape.LandscapeEvaluator(
        model, samples.x[:count], target[:count], loss=loss, metrics=metrics
    )
    from neurogenesis.compute import landscape_runner
    from neurogenesis.compute.payload import payload_from_path

    made = functools.partial(payload_from_path, args.model, args.output)
    with landscape_runner(where, evaluator, made) as runner:
        if runner is not None:
            nodes = runner.nodes()
            print(
                f"Computing on {where.describe()}: {runner.workers} workers on {nodes} "
                f"node{'s' if nodes > 1 else ''}, {len(runner.bounds)} shard"
                f"{'s' if len(runner.bounds) > 1 else ''} of the samples",
                file=sys.stderr,
            )
        info = landscape.landscape_info(
            model,
            samples.x,
            target,
            directions=args.directions,
            resolution=resolution,
            span=span,
            seed=seed,
            checkpoints=checkpoints,
            evaluator=evaluator,
            runner=runner,
        )
    center_loss = float(info.trained_values[0])  # measured: a pca grid has no node there
    seconds = time.perf_counter() - start
    arrays = {
        **landscape.landscape_arrays(info),
        "loss_name": np.array(info.loss_name),
        "directions": np.array(info.directions),
        "num_samples": np.array(info.num_samples),
        "center_loss": np.array(center_loss),
    }
    if info.seed is not None:
        arrays["seed"] = np.array(info.seed)
    if checkpoints:
        arrays["trajectory_values"] = info.trajectory_values
    np.savez_compressed(out, **arrays)
    for note in info.notes:
        print(f"note: {note}", file=sys.stderr)
    if np.isfinite(info.loss).any():
        i, j = np.unravel_index(np.nanargmin(info.loss), info.loss.shape)
        lowest = (
            f"lowest loss {info.loss[i, j]:.6g} at alpha {info.alphas[i]:.3g}, "
            f"beta {info.betas[j]:.3g}"
        )
    else:
        lowest = "no finite loss on the grid"
    print(
        f"Wrote the {resolution} x {resolution} {args.directions} landscape of {info.loss_name} "
        f"on {info.num_samples:,} samples to {out}: {lowest}; loss at the trained weights "
        f"{center_loss:.6g} ({seconds:.1f} s)",
        file=sys.stderr,
    )
    if args.figure:
        from neurogenesis.plotting.landscape import plot_landscape_3d

        _save_figure(plot_landscape_3d(info), args.figure, "the landscape")
    return EXIT_OK


def _figures(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from neurogenesis.figures import paper_figures

    if not args.scale > 0:
        raise InputError(f"Expected a positive --scale. Received: {args.scale}.")
    warned: set[str] = set()

    def report(result) -> None:
        if result.error:
            print(f"{result.name}: not made: {result.error}", file=sys.stderr, flush=True)
            return
        written = ", ".join(path.suffix.lstrip(".") for path in result.paths) or "nothing"
        print(f"{result.name} ({result.title}): {written} ({result.seconds:.1f} s)", flush=True)
        for fmt, why in result.skipped.items():
            if fmt not in warned:
                warned.add(fmt)
                print(f"warning: {fmt.upper()} skipped: {why}", file=sys.stderr, flush=True)

    results = paper_figures(
        args.out,
        style=args.style,
        formats=args.formats.split(","),
        resolution=args.resolution,
        num_samples=args.num_samples,
        scale=args.scale,
        root=args.root,
        progress=report,
    )
    made = [result for result in results if not result.error]
    print(
        f"Wrote {len(made)} of {len(results)} figures to {Path(args.out)}"
        + (f" ({', '.join(sorted(warned)).upper()} skipped)" if warned else ""),
        file=sys.stderr,
    )
    return EXIT_OK if len(made) == len(results) else EXIT_INPUT_ERROR


def _app_command(args: argparse.Namespace) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_FILE),
        "--server.port",
        str(args.port),
    ]
    if args.address:
        command += ["--server.address", args.address]
    command.append("--")
    for flag, values in (
        ("--logdir", args.logdir),
        ("--model", args.model),
        ("--samples", args.samples),
    ):
        for value in values:
            command += [flag, str(Path(value).expanduser().resolve())]
    if args.no_demos:
        command.append("--no-demos")
    if args.trust:
        from neurogenesis.io.models import trust_argument

        for value in args.trust:
            command += ["--trust", trust_argument(value)]
    if args.unsafe_allow_lambda:
        command.append("--unsafe-allow-lambda")
    target = _compute_target(args)
    if not target.is_local:
        command += ["--ray", target.address]
        if target.workers is not None:
            command += ["--workers", str(target.workers)]
        if target.gpus_per_worker:
            command += ["--gpus-per-worker", str(target.gpus_per_worker)]
    return command


def _trust_code(args: argparse.Namespace) -> None:
    """Imports the modules named with --trust before a verb loads a model, and lets Lambda
    layers load with --unsafe-allow-lambda (the app's server does both itself at start-up:
    here the modules are only looked for)."""
    if getattr(args, "unsafe_allow_lambda", False):
        where = ", including every file uploaded to the dashboard" if args.verb == "app" else ""
        print(LAMBDA_WARNING.format(where=where), file=sys.stderr, flush=True)
        if args.verb != "app":
            from neurogenesis.io.models import allow_lambda_layers

            allow_lambda_layers()
    if not getattr(args, "trust", None):
        return
    from neurogenesis.io.models import trust, trust_argument

    for value in args.trust:
        trust_argument(value)  # every name is checked before any code runs
    if args.verb != "app":
        _quiet_tensorflow()
        for value in args.trust:
            trust(value)


def _app(args: argparse.Namespace) -> int:
    if not APP_FILE.is_file():
        raise InputError(
            f"The dashboard's app.py was not found beside the package (looked for '{APP_FILE}'). "
            "Install NeuroGenesis from a clone with `pip install -e .`, or run `streamlit run app.py` there."
        )
    try:
        return subprocess.call(_app_command(args))
    except KeyboardInterrupt:
        return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    handlers = {
        "app": _app,
        "inspect": _inspect,
        "logs": _logs,
        "demo": _demo,
        "train": _train,
        "sweep": _sweep,
        "saliency": _saliency,
        "project": _project,
        "attention": _attention,
        "compare": _compare,
        "adversarial": _adversarial,
        "landscape": _landscape,
        "figures": _figures,
    }
    try:
        _trust_code(args)
        return handlers[args.verb](args)
    except InputError as error:
        message = " ".join(str(error).split())
        print(f"neurogenesis {args.verb}: {message}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except ClusterError as error:  # the Ray cluster could not be reached, or went away
        print(f"neurogenesis {args.verb}: {error}", file=sys.stderr)
        return EXIT_CLUSTER_ERROR
    except BrokenPipeError:  # `neurogenesis logs ... | head`
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
