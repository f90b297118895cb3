"""Text classification with a small transformer on a generated review corpus whose rule is known.

No real text corpus ships inside an installed package under a licence that allows
redistribution (Keras's IMDB, scikit-learn's 20 newsgroups and NLTK's corpora are downloaded at
run time), so the corpus is generated from a fixed seed, with structure a reader can check:

* every sentence has exactly one *keyword* ("good", "awful", ...) and the keyword's polarity
  decides the class;
* a *negation* ("not", "never") anywhere in the sentence flips it ("was not good" is negative);
* *intensifiers* ("very", "really", ...), neutral adjectives ("long", "new", ...), openers and
  closers are decoys that never change the class.

For every sentence the sample set stores a ``rationale`` mask: True on the keyword and on the
negation, the tokens attention and attribution should pick out.

The model takes token ids (0 is padding, 1 an unknown word) and is built from Keras layers only:
token and position embeddings, two post-norm transformer blocks with
``keras.layers.MultiHeadAttention`` (4 heads, padding masked) and a pooled softmax.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from neurogenesis.zoo.common import (
    SEED,
    Recipe,
    Scenario,
    SweepSpec,
    fresh_dir,
    keras_module,
    make_card,
    make_optimizer,
    save_model_and_card,
    save_samples,
    scenario_facts,
    seconds_since,
)

NAME = "sentiment_transformer"
TITLE = "Sentiment transformer"
DATASET = (
    "generated movie-review sentences (keyword decides, negation flips, intensifiers are decoys) "
    "with a per-token rationale; made by neurogenesis.zoo.sentiment from a fixed seed"
)
TASK = "text classification"
LABEL_NAMES = ("negative", "positive")
SEQUENCE_LENGTH = 16
PAD, UNKNOWN = "[PAD]", "[UNK]"
NUM_TRAIN = 3200
NUM_TEST = 800
QUICK_NUM_TRAIN = 400
QUICK_NUM_TEST = 200
DEFAULT_EPOCHS = 8
QUICK_EPOCHS = 2
BATCH_SIZE = 64
DEFAULT_WIDTH = 24
NUM_HEADS = 4
NUM_LAYERS = 2
LEARNING_RATE = 1e-3
MAIN_RUN = "adam"
SWEEP_GRID = {"learning_rate": [3e-4, 1e-3, 3e-3], "width": [8, 16, 24, 32]}
SWEEP_EPOCHS = 4
QUICK_SWEEP_GRID = {"learning_rate": [1e-3, 3e-3], "width": [8]}
QUICK_SWEEP_EPOCHS = 1
SWEEP_METRIC = "val_accuracy"
SWEEP_GOAL = "max"
# A live random sweep: log-uniform learning rates around the grid's, the grid's widths.
RANDOM_SPACE = {"learning_rate": (1e-4, 1e-2, "log"), "width": [8, 16, 24, 32]}

POSITIVE_WORDS = ("good", "great", "excellent", "wonderful", "brilliant", "enjoyable")
NEGATIVE_WORDS = ("bad", "awful", "terrible", "boring", "dull", "poor")
NEGATIONS = ("not", "never")
INTENSIFIERS = ("very", "really", "truly", "extremely", "quite", "so")
SUBJECTS = (
    "the movie",
    "this film",
    "the plot",
    "the acting",
    "the story",
    "the cast",
    "the script",
)
NEUTRAL_ADJECTIVES = ("long", "new", "old", "french", "second", "short")
VERBS = ("was", "is", "felt", "seemed", "looked")
OPENERS = ("honestly", "overall", "i think", "to be fair", "in my opinion", "well")
CLOSERS = ("for me", "at times", "today", "again", "in the end")

KEYWORDS = POSITIVE_WORDS + NEGATIVE_WORDS


def vocabulary() -> tuple[str, ...]:
    """Every token the generator can write, after ``[PAD]`` (id 0) and ``[UNK]`` (id 1)."""
    words: list[str] = []
    for group in (
        SUBJECTS,
        NEUTRAL_ADJECTIVES,
        VERBS,
        NEGATIONS,
        INTENSIFIERS,
        POSITIVE_WORDS,
        NEGATIVE_WORDS,
        OPENERS,
        CLOSERS,
    ):
        for phrase in group:
            words.extend(word for word in phrase.split() if word not in words)
    return (PAD, UNKNOWN, *words)


def tokenize(texts, vocab: tuple[str, ...] | None = None) -> np.ndarray:
    """Token ids, shape ``(n, SEQUENCE_LENGTH)`` int32: lower-cased words split on spaces, unknown
    words as 1, padded with 0 at the end and cut at :data:`SEQUENCE_LENGTH`."""
    index = {word: i for i, word in enumerate(vocab or vocabulary())}
    ids = np.zeros((len(texts), SEQUENCE_LENGTH), dtype=np.int32)
    for row, text in enumerate(texts):
        words = str(text).lower().split()[:SEQUENCE_LENGTH]
        ids[row, : len(words)] = [index.get(word, 1) for word in words]
    return ids


def rule_label(text: str) -> int:
    """The class the corpus's rule gives a sentence: the keyword's polarity, flipped by a negation.

    Raises:
        ValueError: the sentence has no keyword or more than one.
    """
    words = str(text).lower().split()
    found = [word for word in words if word in KEYWORDS]
    if len(found) != 1:
        raise ValueError(f"Expected exactly one keyword in {text!r}; found {found}.")
    positive = found[0] in POSITIVE_WORDS
    negated = any(word in NEGATIONS for word in words)
    return int(positive != negated)


def make_corpus(n: int, seed: int) -> dict[str, np.ndarray]:
    """Generates ``n`` sentences: classes balanced, half of each class negated.

    Returns:
        ``text`` (str), ``y`` (int64, 1 = positive), ``rationale`` (bool, ``(n, SEQUENCE_LENGTH)``,
        True on the keyword and the negation), ``keyword`` (str), ``negated`` (bool) and
        ``intensified`` (bool).
    """
    rng = np.random.default_rng(seed)

    def pick(options):
        return options[rng.integers(len(options))]

    texts, labels, rationales, keywords, negated_flags, intensified_flags = [], [], [], [], [], []
    for i in range(n):
        # Cycling through the four (keyword polarity, negation) pairs balances the classes exactly.
        positive_keyword, negated = bool(i % 2), bool((i // 2) % 2)
        intensified = bool(rng.random() < 0.5)
        keyword = pick(POSITIVE_WORDS if positive_keyword else NEGATIVE_WORDS)
        words: list[str] = []
        if rng.random() < 0.4:
            words += pick(OPENERS).split()
        subject = pick(SUBJECTS).split()
        if rng.random() < 0.4:
            subject.insert(1, pick(NEUTRAL_ADJECTIVES))
        words += subject + [pick(VERBS)]
        if negated:
            words.append(pick(NEGATIONS))
        if intensified:
            words.append(pick(INTENSIFIERS))
        words.append(keyword)
        if rng.random() < 0.4:
            words += pick(CLOSERS).split()
        words = words[:SEQUENCE_LENGTH]
        rationale = np.zeros(SEQUENCE_LENGTH, dtype=bool)
        for position, word in enumerate(words):
            rationale[position] = word == keyword or word in NEGATIONS
        texts.append(" ".join(words))
        labels.append(int(positive_keyword != negated))
        rationales.append(rationale)
        keywords.append(keyword)
        negated_flags.append(negated)
        intensified_flags.append(intensified)
    order = rng.permutation(n)
    return {
        "text": np.array(texts)[order],
        "y": np.array(labels, dtype=np.int64)[order],
        "rationale": np.stack(rationales)[order],
        "keyword": np.array(keywords)[order],
        "negated": np.array(negated_flags)[order],
        "intensified": np.array(intensified_flags)[order],
    }


def sentiment_data(quick: bool = False) -> tuple[dict, dict]:
    """Train and test corpora (independent seeds), each with ``x`` token ids added."""
    num_train, num_test = (QUICK_NUM_TRAIN, QUICK_NUM_TEST) if quick else (NUM_TRAIN, NUM_TEST)
    train_set, test_set = make_corpus(num_train, SEED), make_corpus(num_test, SEED + 1)
    for part in (train_set, test_set):
        part["x"] = tokenize(part["text"])
    return train_set, test_set


def sentiment_transformer(*, width: int = DEFAULT_WIDTH, vocabulary_size: int | None = None):
    """Token and position embeddings (``width`` wide, then LayerNormalization), two transformer
    encoder blocks of ``MultiHeadAttention`` (4 heads) + feed-forward with residuals and
    LayerNormalization, average pooling over the words and a softmax over negative/positive.

    Padding (id 0) is masked explicitly, from the token ids: every head gets an
    ``attention_mask`` that hides the padding, and the pooling skips it. (Keras's implicit
    ``mask_zero`` masks do not survive a residual connection around MultiHeadAttention.)
    Positions and masks come from ``keras.ops`` on the token ids, so the model has one input
    and only Keras layers.
    """
    keras = keras_module()
    from keras import ops

    vocabulary_size = vocabulary_size or len(vocabulary())
    token_ids = keras.Input((SEQUENCE_LENGTH,), dtype="int32", name="token_ids")
    is_word = ops.not_equal(token_ids, 0)
    attention_mask = ops.logical_and(ops.expand_dims(is_word, 2), ops.expand_dims(is_word, 1))
    positions = ops.cumsum(ops.ones_like(token_ids), axis=1) - 1
    tokens = keras.layers.Embedding(vocabulary_size, width, name="token_embedding")(token_ids)
    places = keras.layers.Embedding(SEQUENCE_LENGTH, width, name="position_embedding")(positions)
    x = keras.layers.Add(name="embedding")([tokens, places])
    # Unit-scale inputs, so that the first block's queries and keys start out informative.
    x = keras.layers.LayerNormalization(name="embedding_norm")(x)
    for block in range(1, NUM_LAYERS + 1):
        attended = keras.layers.MultiHeadAttention(
            NUM_HEADS, max(width // NUM_HEADS, 2), name=f"attention_{block}"
        )(x, x, attention_mask=attention_mask)
        x = keras.layers.LayerNormalization(name=f"attention_norm_{block}")(
            keras.layers.Add(name=f"attention_residual_{block}")([x, attended])
        )
        hidden = keras.layers.Dense(2 * width, activation="relu", name=f"feed_forward_{block}")(x)
        hidden = keras.layers.Dense(width, name=f"feed_forward_out_{block}")(hidden)
        x = keras.layers.LayerNormalization(name=f"feed_forward_norm_{block}")(
            keras.layers.Add(name=f"feed_forward_residual_{block}")([x, hidden])
        )
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x, mask=is_word)
    outputs = keras.layers.Dense(len(LABEL_NAMES), activation="softmax", name="probabilities")(x)
    return keras.Model(token_ids, outputs, name=NAME)


def _compiled(*, learning_rate: float = LEARNING_RATE, width: int = DEFAULT_WIDTH):
    model = sentiment_transformer(width=width)
    model.compile(
        optimizer=make_optimizer("adam", learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _hyperparameters(
    *, epochs: int, seed: int, learning_rate: float = LEARNING_RATE, width: int = DEFAULT_WIDTH
) -> dict:
    return {
        "optimizer": "adam",
        "learning_rate": learning_rate,
        "width": width,
        "num_heads": NUM_HEADS,
        "num_layers": NUM_LAYERS,
        "batch_size": BATCH_SIZE,
        "epochs": epochs,
        "seed": seed,
    }


def _split(data):
    train_set, test_set = data
    return (train_set["x"], train_set["y"]), (test_set["x"], test_set["y"])


_RECIPE = Recipe(
    compiled=_compiled, hyperparameters=_hyperparameters, batch_size=BATCH_SIZE, split=_split
)


def build(
    models_dir: Path, data_dir: Path, *, quick: bool = False, epochs: int | None = None
) -> dict:
    """Rebuilds the sentiment transformer: model and card, its run, the sweep, the sample set.

    Writes ``models/sentiment_transformer.keras`` (+ ``.json``),
    ``data/runs/sentiment_transformer/adam``, ``data/sweeps/sentiment_transformer`` and
    ``data/samples/sentiment_transformer.npz`` (the test corpus).

    Returns:
        The card plus paths and the build's duration (see :class:`~neurogenesis.zoo.Scenario`).
    """
    start = time.perf_counter()
    epochs = epochs or (QUICK_EPOCHS if quick else DEFAULT_EPOCHS)
    data = sentiment_data(quick)
    runs_dir = fresh_dir(data_dir / "runs" / NAME)
    model = _RECIPE.record_run(runs_dir / MAIN_RUN, data, epochs)

    _RECIPE.sweep(
        NAME,
        data_dir,
        data,
        grid=QUICK_SWEEP_GRID if quick else SWEEP_GRID,
        epochs=QUICK_SWEEP_EPOCHS if quick else SWEEP_EPOCHS,
        metric=SWEEP_METRIC,
        goal=SWEEP_GOAL,
    )

    test_set = data[1]
    _, accuracy = model.evaluate(test_set["x"], test_set["y"], verbose=0)
    vocab = vocabulary()
    card = make_card(
        name=NAME,
        title=TITLE,
        dataset=DATASET,
        task=TASK,
        description=(
            f"Token + position embeddings, {NUM_LAYERS} transformer blocks of MultiHeadAttention "
            f"({NUM_HEADS} heads) and feed-forward layers, masked average pooling and a softmax. "
            "The class is decided by one keyword and flipped by 'not'/'never'; the sample set's "
            "'rationale' marks those tokens, so attention and attribution can be checked."
        ),
        test_metric="accuracy",
        test_value=accuracy,
        goal="max",
        epochs=epochs,
        input_description=(
            f"token ids, int32 (n, {SEQUENCE_LENGTH}), 0 = padding at the end, 1 = unknown word; "
            "the sample set's 'vocabulary' maps ids to words and 'text' holds the sentences"
        ),
        input_shape=(None, SEQUENCE_LENGTH),
        input_dtype="int32",
        label_names=LABEL_NAMES,
        data_dir=data_dir,
        runs=[MAIN_RUN],
        quick=quick,
        test_split=f"the {len(test_set['y'])} sentences in data/samples/{NAME}.npz",
        vocabulary_size=len(vocab),
        rule=(
            "label = positive keyword XOR a negation ('not', 'never') in the sentence; "
            "intensifiers, neutral adjectives, openers and closers never change it"
        ),
    )
    model_path = save_model_and_card(model, models_dir, NAME, card)
    save_samples(
        data_dir,
        NAME,
        x=test_set["x"],
        y=test_set["y"],
        label_names=np.array(LABEL_NAMES),
        text=test_set["text"],
        tokens=test_set["x"],
        vocabulary=np.array(vocab),
        rationale=test_set["rationale"],
        keyword=test_set["keyword"],
        negated=test_set["negated"],
        intensified=test_set["intensified"],
    )
    return scenario_facts(card, model_path, data_dir, seconds_since(start))


SCENARIO = Scenario(
    name=NAME,
    title=TITLE,
    dataset=DATASET,
    task=TASK,
    default_epochs=DEFAULT_EPOCHS,
    build=build,
    setup=lambda: (_RECIPE, sentiment_data()),
    sweep=SweepSpec.declared(globals()),
    width_model=lambda width: sentiment_transformer(width=width),
)
