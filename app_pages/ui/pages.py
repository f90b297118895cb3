"""The app's pages, once: the router (app.py) registers them, and Home lists what each answers."""

from __future__ import annotations

from typing import NamedTuple


class PageEntry(NamedTuple):
    """One page: its file (under the app's folder), title, Material icon and the question it
    answers (None for Home and the manual, which Home does not list)."""

    path: str
    title: str
    icon: str
    question: str | None = None


PAGES = (
    PageEntry("app_pages/home.py", "Home", ":material/home:"),
    PageEntry(
        "app_pages/architecture.py",
        "Architecture",
        ":material/account_tree:",
        "What is this network made of? Its graph with collapsible blocks, exact parameters, "
        "compute and memory per layer, a diff against another model, templates, a live builder "
        "and export to Keras code.",
    ),
    PageEntry(
        "app_pages/training.py",
        "Training dynamics",
        ":material/show_chart:",
        "Did training go well? Curves for many runs, overfitting and early-stopping signals, layer health.",
    ),
    PageEntry(
        "app_pages/features.py",
        "Features and representations",
        ":material/image_search:",
        "What did it learn, and what does it look at? Filters, feature maps, activation "
        "maximization, seven attribution methods with a sanity check and the pointing game, and "
        "an embedding projector with no sample cap.",
    ),
    PageEntry(
        "app_pages/attention.py",
        "Attention",
        ":material/visibility:",
        "Where does each attention head look, for a sample or your own text; which heads "
        "matter; rollout across layers; and how attention evolved over training.",
    ),
    PageEntry(
        "app_pages/debugging.py",
        "Debugging",
        ":material/bug_report:",
        "Why does it fail, how fragile is it, and is the other model really better? "
        "Perturbations, adversarial examples, robustness curves, error analysis, A/B tests.",
    ),
    PageEntry(
        "app_pages/landscape.py",
        "Loss landscape",
        ":material/landscape:",
        "What does the loss look like around the trained weights, which way did training go, "
        "and how sharp is the minimum? Filter-normalized 3D surfaces, the training path on the "
        "PCA plane, lines between weights, and two models on one scale.",
    ),
    PageEntry(
        "app_pages/hyperparameters.py",
        "Hyperparameters",
        ":material/tune:",
        "Which settings matter, and where is the best region? 3D response surfaces with every "
        "trial on them (Gaussian-process surrogate for irregular searches), contours, parallel "
        "coordinates, slices, importance, and sweeps you start from the page.",
    ),
    PageEntry("app_pages/manual.py", "User manual", ":material/menu_book:"),
)
