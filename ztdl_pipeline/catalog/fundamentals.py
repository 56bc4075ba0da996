"""DataCamp's forward-propagation and gradient lessons (seed 001, "Introduction to Deep Learning in Python";
004 is its text-only copy): data only. One `Lesson` per lesson with its inputs as the memo states them, the
function that computes it (core/fundamentals.py, by reference) and every number it prints, with its line
(`001:Lnnn`, as ../shared/reference/book_catalog.md cites them). reports/fundamentals_report computes them all;
no data file is read.
"""

from __future__ import annotations

from ztdl_pipeline.core.fundamentals import Lesson
from ztdl_pipeline.core.image_specs import Experiment
from ztdl_pipeline.core.report import BookNumber as B

F = "ztdl_pipeline.core.fundamentals:"
REPORT = "fundamentals"

# the customer network of the first lessons: input_data = array([3, 5]) (accounts, children) (001:L32–36)
CUSTOMER = [3, 5]
CUSTOMER_WEIGHTS = {"node_0": [2, 4], "node_1": [4, -5], "output": [2, 7]}
# dc.perfect_weights and dc.mse_two_weight_sets (001:L289–390)
WEIGHTS_0 = {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]}


def _book(lesson: str, *numbers: tuple[str, float, str]) -> tuple[B, ...]:
    return tuple(B(lesson, name, value, where) for name, value, where in numbers)


LESSONS = (
    Lesson("forward_prop_2x2", "Forward propagation (identity activation)", F + "lesson_forward",
           {"input_data": CUSTOMER, "weights": CUSTOMER_WEIGHTS, "activation": "identity"},
           _book("forward_prop_2x2", ("node_0_input", 26, "001:L47"), ("prediction", -39, "001:L66, L69; 004:L23")),
           "dc.forward_prop_2x2 (001:L21–69; 004:L13–23): `input_data = array([3, 5])`, `weights = {'node_0': "
           "array([2, 4]), 'node_1': array([ 4, -5]), 'output': array([2, 7])}` (001:L32–36); identity activation"),
    Lesson("relu_forward", "The ReLU activation", F + "lesson_forward",
           {"input_data": CUSTOMER, "weights": CUSTOMER_WEIGHTS, "activation": "relu"},
           _book("relu_forward", ("prediction", 52, "001:L117; 'You predicted 52 transactions' 001:L120, 004:L39")),
           "dc.relu_forward (001:L79–122; 004:L25–39): same weights with `relu = max(input, 0)` on hidden nodes"),
    Lesson("relu_many_rows", "Many rows", F + "lesson_rows",
           {"input_data": [[3, 5], [1, -1], [0, 0], [8, 4]], "weights": CUSTOMER_WEIGHTS, "activation": "relu",
            "output_activation": "relu"},
           _book("relu_many_rows", *((f"row_{i}", v, "001:L170") for i, v in enumerate((52, 63, 0, 148)))),
           "dc.relu_many_rows (001:L124–171): `input_data = [array([3, 5]), array([ 1, -1]), array([0, 0]), "
           "array([8, 4])]`, relu also on output → `[52, 63, 0, 148]` (001:L170)"),
    Lesson("deeper_network_2_hidden", "Two hidden layers", F + "lesson_deeper",
           {"input_data": CUSTOMER, "weights": {"node_0_0": [2, 4], "node_0_1": [4, -5], "node_1_0": [-1, 2],
                                                 "node_1_1": [1, 2], "output": [2, 7]}, "activation": "relu"},
           _book("deeper_network_2_hidden", ("prediction", 182, "001:L238")),
           "dc.deeper_network_2_hidden (001:L179–239; 004:L45–59): `weights = {'node_0_0': [2, 4], 'node_0_1': "
           "[ 4, -5], 'node_1_0': [-1, 2], 'node_1_1': [1, 2], 'output': [2, 7]}`, relu → `182` (001:L238)",
           notes="The catalogue does not restate this lesson's input; it is the customer row of the lessons before "
                 "it, `array([3, 5])` (001:L32). The identity-activation quiz before it (001:L181–187) is garbled in "
                 "the seed and prints no recoverable prediction, so it is not computed."),
    Lesson("model_error", "Model error, and how a weight changes it", F + "lesson_model_error",
           {"prediction": 16, "target": 5, "hidden_value": 8, "weight": 2, "new_weight": 2.01, "target_changed": 7},
           _book("model_error", ("error", 11, "001:L265–267"), ("error_before", 9, "001:L287"),
                 ("error_after", 9.08, "001:L287")),
           "dc.model_error (001:L257–287; 004:L77–107): prediction `=16`, `error = 16 – 5 = 11` (001:L265–267); "
           "weight 2 → 2.01 changes error from `9` to `9.08` (001:L287)",
           notes="The lesson's network (input [3, 2], ReLU) is a picture the seed's text does not hold, so its "
                 "prediction, 16, is taken as printed rather than computed. Two inputs are not printed numbers: the "
                 "changed target, 7 (DataCamp's exercise: 'The actual value of the target is 7'; 16 − 7 is the "
                 "printed 9), and the value of the hidden node the changed weight leaves, 8: the prediction is "
                 "linear in that weight, and 8 is the value for which 2 × 8 makes the whole prediction of 16 (the "
                 "other hidden node off). That is an assumption about the picture; 9.08 follows from it."),
    Lesson("perfect_weights", "Changing one weight to a perfect prediction", F + "lesson_errors",
           {"input_data": [0, 3], "weights_0": WEIGHTS_0,
            "weights_1": {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 0]}, "target": 3},
           _book("perfect_weights", ("error_0", 6, "001:L334"), ("error_1", 0, "001:L335")),
           "dc.perfect_weights (001:L289–336): `input_data = np.array([0, 3])`, `weights_0 = {'node_0': [2, 1], "
           "'node_1': [1, 2], 'output': [1, 1]}`, target 3 → `error_0` `6`; `weights_1` output `[1, 0]` → "
           "`error_1` `0` (001:L334–335)"),
    Lesson("mse_two_weight_sets", "Mean squared error of two weight sets", F + "lesson_mse",
           {"input_data": [[0, 3], [1, 2], [-1, -2], [4, 0]], "weights_0": WEIGHTS_0,
            "weights_1": {"node_0": [2, 1], "node_1": [1.0, 1.5], "output": [1.0, 1.5]}, "targets": [1, 3, 5, 7]},
           _book("mse_two_weight_sets", ("mse_0", 37.5, "001:L386 ('37.500000')"), ("mse_1", 49.890625, "001:L387")),
           "dc.mse_two_weight_sets (001:L338–390): inputs `[array([0, 3]), array([1, 2]), array([-1, -2]), "
           "array([4, 0])]`, targets `[1, 3, 5, 7]`; `Mean squared error with weights_0: 37.500000`, `Mean squared "
           "error with weights_1: 49.890625` (001:L386–387)",
           notes="`weights_1` is not in the catalogue's text: it is DataCamp's exercise 'Scaling up to multiple data "
                 "points' (`'node_1': [1. , 1.5], 'output': [1. , 1.5]`, node_0 unchanged), the only input of the "
                 "group taken from outside the catalogue; with it the memo's 49.890625 comes out exactly."),
    Lesson("gradient_slide", "A weight update on the slide", F + "lesson_slide",
           {"weight": 2, "slope_value": -24, "learning_rate": 0.01},
           _book("gradient_slide", ("new_weight", 2.24, "001:L406")),
           "dc.gradient_descent_slopes (001:L392–539): worked slide `new weight = 2 – -24 * 0.01 = 2.24` (001:L406)"),
    Lesson("gradient_descent_slopes", "Slopes and one step of gradient descent", F + "lesson_gradient",
           {"input_data": [1, 2, 3], "weights": [0, 2, 1], "target": 0, "learning_rate": 0.01, "n_updates": 20},
           _book("gradient_descent_slopes", *((f"slope_{i}", v, "001:L441") for i, v in enumerate((-14, -28, -42))),
                 *((f"weights_updated_{i}", v, "001:L474") for i, v in enumerate((-0.14, 1.72, 0.58))),
                 ("error_before", 7, "001:L488"), ("error_after", 5.04, "001:L489")),
           "dc.gradient_descent_slopes (001:L392–539; 004:L127–161): `input_data = array([1, 2, 3])`, `weights = "
           "array([0, 2, 1])`, `target = 0` → slope `[-14 -28 -42]` (001:L441) (with `error = target - preds`); "
           "update with `learning_rate = 0.01` → `weights_updated` `[-0.14, 1.72, 0.58]` (001:L474); error `7` → "
           "`5.04` (001:L488–489); `n_updates = 20` loop with step `0.01`, MSE plot decreasing (001:L512–539)",
           notes="The memo prints the slope with `error = target - preds` but updates with the gradient (`error = "
                 "preds - target`, slope `[14, 28, 42]`): `[0, 2, 1] − 0.01 × [14, 28, 42]` is the printed "
                 "`[-0.14, 1.72, 0.58]`. We compute both as printed.",
           extra=("squared_error_first", "squared_error_last")),
    Lesson("backprop_quiz", "Backpropagation quiz", F + "lesson_backprop",
           {"gradients": {"gradient_0": (0, 6, 1), "gradient_3": (1, 18, 1), "gradient_last": (2, 3, 1)},
            "iterations": 4},
           _book("backprop_quiz", ("gradient_0", 0, "001:L586"), ("gradient_3", 18, "001:L588"),
                 ("gradient_last", 6, "001:L613; 004:L217"), ("forward_passes", 4, "001:L555")),
           "dc.backprop_quiz (001:L541–613): 4 backprop iterations ⇒ `4` forward passes (001:L555); `gradient_0 = "
           "0_6_1 = 0`, `gradient_3 = 1_18_1 = 18` (001:L586–588); `= 2_3_1 = 6` (001:L613; 004:L217)",
           notes="The catalogue's `0_6_1` is the memo's `0 * 6 * 1` (Markdown ate the asterisks): node value × "
                 "the loss's slope at the node fed × the activation's slope (ReLU on: 1)."),
)

# every number the memo prints, by report: the results table (results.py) lists them with ours beside them
REPORT_NUMBERS = {REPORT: tuple(number for lesson in LESSONS for number in lesson.book)}

# ------------------------------------------------------------------ seed 003: the intro-to-neural-networks tutorial

# its MLP from scratch next to Keras on intro_to_ann.csv (raw/intro_to_ann, $ZTDL_SOURCE_INTRO_TO_ANN: no public
# copy). The tutorial's last run (its solution sol_112): ANN(2, 10, 1), 100 iterations, N = 0.5, M = 0.1, seed 123
INTRO_ANN = Experiment(
    "intro_ann_mlp", ("raw", "intro_to_ann"), "ztdl_pipeline.core.intro_ann:intro_ann_mlp",
    {"features": ["Feature1", "Feature2"], "label": "Target", "n_hidden": 10, "epochs": 100, "learning_rate": 0.5,
     "momentum": 0.1, "seed": 123},
    "seed 003: the tutorial's MLP from scratch in NumPy (sigmoid, bias node, online backprop with momentum) next "
    "to the same network in Keras on intro_to_ann.csv: final error and accuracy of each, error curves, decision "
    "boundaries", fast={"epochs": 3}, pool=None)
