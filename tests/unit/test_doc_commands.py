"""Every shell command in the README and docs/*.md holds against the code as written (issue 18).

Each command is checked by what it runs: a `make` target exists and its SELECT resolves to assets; a `dagster
asset materialize` or `dg launch` names an importable module, a selection that resolves and a run config that
Dagster validates for those assets; `ztdl-serve`'s flags parse; a REST call names a route and an example with
an export, with a JSON body; `export` sets NAME=value; a `python` script or module exists and `-c` code compiles. tests/serving/test_doc_curl.py sends the REST calls to a real server. Commands that
need what this machine lacks (docker images, a cluster) and the steps of the PostgreSQL and object-store
walkthroughs carry the reason and the test that covers them instead; a command of any other program fails here
until it is given a check.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from tests.doc_commands import ASSIGNMENT, NOT_HERE, REPO, Command, all_commands, untagged_shell_blocks

COMMANDS = all_commands()
REDIRECTIONS = re.compile(r"^(\d?>>?|&>|<)")
REST_PATH = re.compile(r"^/v1/models(?:/(?P<name>[A-Za-z0-9_-]+)(?:/versions/\d+)?(?:/metadata|:predict)?)?$")
WALKTHROUGH_STEPS = {  # (doc, program) -> the test that runs the same steps
    ("docs/deployment.md", "su"): "tests/e2e/test_postgres_instance.py (creates the role and database)",
    ("docs/deployment.md", "until"): "tests/e2e/test_object_store.py (waits for ztdl-serve)",
    ("docs/deployment.md", "kill"): "tests/e2e/test_object_store.py (stops what it started)",
    ("docs/deployment.md", "grep"): "tests/e2e/test_celery_executor.py (reads which worker ran which step)",
    ("docs/deployment.md", "psql"): "tests/e2e/test_postgres_instance.py (queries the runs table)",
    ("docs/serving.md", "cat"): "TF Serving's model config for the docker commands beside it",
}


@pytest.fixture(scope="module")
def location():
    import dagster as dg

    from ztdl_pipeline.definitions import defs

    return defs, defs.resolve_asset_graph(), dg


def _selected(location, selection: str, where: str) -> set:
    defs, graph, dg = location
    try:
        keys = dg.AssetSelection.from_string(selection).resolve(graph)
    except Exception as error:  # noqa: BLE001 - any parse or resolve error is the finding
        pytest.fail(f"{where}: selection {selection!r} does not parse: {error}")
    assert keys, f"{where}: selection {selection!r} matches no asset"
    return set(keys)


def _options(argv: tuple[str, ...]) -> dict[str, str]:
    options, words = {}, list(argv)
    while words:
        word = words.pop(0)
        if word.startswith("-") and words and not words[0].startswith("-"):
            options[word] = words.pop(0)
    return options


def _makefile_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w-]*):", (REPO / "Makefile").read_text(), re.M))


def _check_make(command: Command, location) -> None:
    targets = [w for w in command.argv[1:] if "=" not in w]
    variables = dict(w.split("=", 1) for w in command.argv[1:] if "=" in w)
    assert targets, f"{command.where}: `make` with no target"
    for target in targets:
        assert target in _makefile_targets(), f"{command.where}: no Makefile target {target!r}"
    if "SELECT" in variables:
        _selected(location, variables["SELECT"], command.where)
    if "TF" in variables:
        assert variables["TF"] in ("cpu", "gpu"), command.where


def _check_dagster(command: Command, location) -> None:
    """`dg launch --assets S` or `dagster asset materialize -m M --select S`, with an optional --config-json."""
    import importlib

    _, graph, dg = location
    if command.program == "dagster" and command.argv[1:2] != ("asset",):
        _check_click(command, "dagster._cli:cli")  # e.g. `dagster instance migrate`
        return
    if command.program == "dg":
        assert command.argv[1] == "launch", f"{command.where}: only `dg launch` is documented"
        options = _options(command.argv[2:])
        selection = options["--assets"]
    else:
        assert command.argv[1:3] == ("asset", "materialize"), f"{command.where}: unchecked dagster command"
        options = _options(command.argv[3:])
        module = options.get("-m") or options.get("--module-name")
        assert module, f"{command.where}: `dagster asset materialize` needs -m (the code location's module)"
        assert hasattr(importlib.import_module(module), "defs"), f"{command.where}: {module} has no Definitions"
        selection = options["--select"]
    keys = _selected(location, selection, command.where)
    if "--config-json" in options:
        config = json.loads(options["--config-json"])
        job = location[0].resolve_implicit_global_asset_job_def().get_subset(asset_selection=keys)
        steps = {node.name for node in job.graph.nodes}
        unknown = set(config.get("ops", {})) - steps  # Dagster ignores config for ops outside the run
        assert not unknown, f"{command.where}: --config-json configures {sorted(unknown)}, not steps of this run"
        dg.validate_run_config(job, config)  # raises, naming the bad field


def _check_export(command: Command, _location) -> None:
    for word in command.argv[1:]:
        assert ASSIGNMENT.match(word), f"{command.where}: `export {word}` is not NAME=value"


def _arguments(argv: tuple[str, ...]) -> list[str]:
    """A command's arguments without redirections and a trailing `&`."""
    words, found = list(argv), []
    while words:
        word = words.pop(0)
        if word == "&":
            continue
        if REDIRECTIONS.match(word):
            if word in (">", ">>", "<", "2>", "&>"):
                words.pop(0)  # the redirection's file
            continue
        found.append(word)
    return found


def _check_serve(command: Command, _location) -> None:
    from ztdl_pipeline.serving.server import argument_parser

    argument_parser().parse_args(_arguments(command.argv[1:]))  # exits (a failure here) on a bad flag or value


def _check_click(command: Command, target: str):
    """Parse the arguments with the program's own click command (from the checkout, as the docs run it)."""
    import contextlib
    import importlib

    import click

    module, _, name = target.partition(":")
    group = getattr(importlib.import_module(module), name)
    args = _arguments(command.argv[1:])
    with contextlib.chdir(REPO):
        context = group.make_context(command.program, list(args))
        while isinstance(context.command, click.Group) and context.protected_args:  # down to the subcommand
            sub_name, *rest = [*context.protected_args, *context.args]
            sub = context.command.get_command(context, sub_name)
            assert sub is not None, f"{command.where}: no command {sub_name!r}"
            context = sub.make_context(sub_name, rest, parent=context)
    return context


def _check_celery_worker(command: Command, _location) -> None:
    """`dagster-celery worker start`: the options parse, the settings file is the project's, the queues are the
    ones steps are sent to (core/placement.py and dagster-celery's default) and the modules import."""
    import importlib.util

    from dagster_celery.defaults import task_default_queue

    from ztdl_pipeline.core.placement import PLACEMENTS
    from ztdl_pipeline.instance import CELERY_SETTINGS

    assert command.argv[1:3] == ("worker", "start"), f"{command.where}: only `worker start` is documented"
    params = _check_click(command, "dagster_celery.cli:main").params
    assert (REPO / params["config_yaml"]).resolve() == CELERY_SETTINGS, command.where
    queues = {task_default_queue, *(p.queue for p in PLACEMENTS.values())}
    assert params["queue"] and set(params["queue"]) <= queues, f"{command.where}: {params['queue']} not a queue of {queues}"
    for module in (params["app"], *params["includes"]):
        assert importlib.util.find_spec(module), f"{command.where}: no module {module}"


def _check_webserver(command: Command, _location) -> None:
    import importlib

    params = _check_click(command, "dagster_webserver.cli:cli").params
    assert hasattr(importlib.import_module(params["module_name"][0]), "defs"), command.where


def _check_source(command: Command, _location) -> None:
    """`. .venv/bin/activate`: the virtual environment `make install` makes."""
    assert command.argv[1:] == (".venv/bin/activate",), command.where
    assert re.search(r"^VENV \?= \.venv$", (REPO / "Makefile").read_text(), re.M), command.where


def _check_curl(command: Command, _location) -> None:
    from ztdl_pipeline.catalog import cards

    urls = [w for w in command.argv if w.startswith("http")]
    assert len(urls) == 1, f"{command.where}: one URL expected"
    url = urlsplit(urls[0])
    options = _options(command.argv[1:])
    if url.port == 3000:  # the Dagster web server: its health route and GraphQL API
        assert url.hostname == "127.0.0.1" and url.path in ("/server_info", "/graphql"), f"{command.where}: {url}"
        if url.path == "/graphql":
            assert "runsOrError" in json.loads(options["-d"])["query"], command.where
        return
    assert url.hostname in ("127.0.0.1", "localhost") and url.port == 8501, f"{command.where}: {urls[0]}"
    route = REST_PATH.match(url.path)
    assert route, f"{command.where}: {url.path} is not a route of TF Serving's REST API"
    if route.group("name"):
        assert route["name"] in {card.name for _, card in cards()}, f"{command.where}: no example {route['name']}"
    if "-d" in options:
        body = json.loads(options["-d"])
        assert isinstance(body.get("instances"), list) and body["instances"], f"{command.where}: no instances"


def _check_python(command: Command, _location) -> None:
    import importlib.util

    args = command.argv[1:]
    if args[0] == "-m":
        assert importlib.util.find_spec(args[1]), f"{command.where}: no module {args[1]}"
    elif args[0] == "-c":
        compile(args[1], command.where, "exec")  # a SyntaxError is the finding
    else:
        assert (REPO / args[0]).is_file(), f"{command.where}: no script {args[0]}"


CHECKS = {"make": _check_make, "python": _check_python, "export": _check_export, "dagster": _check_dagster, "dg": _check_dagster, "ztdl-serve": _check_serve,
          "curl": _check_curl, "dagster-celery": _check_celery_worker, "dagster-webserver": _check_webserver,
          ".": _check_source}


def test_the_docs_show_commands_and_every_one_has_a_check_or_a_stated_reason():
    assert len(COMMANDS) > 30  # the collector found the README's and the docs' blocks
    unchecked = [c.where + " " + c.program for c in COMMANDS
                 if c.program not in CHECKS and c.program not in NOT_HERE and (c.doc, c.program) not in WALKTHROUGH_STEPS]
    assert not unchecked, "commands with no check and no stated reason: " + ", ".join(unchecked)


def test_every_block_of_commands_says_it_is_shell():
    """A fence without a language is invisible to the checks here and to `make test-docs` (docs/tracking.md's
    TensorBoard and MLflow commands were)."""
    assert not untagged_shell_blocks(), f"tag these blocks ```bash: {untagged_shell_blocks()}"


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.program in CHECKS], ids=lambda c: c.where)
def test_the_command_holds_against_the_code(command, location):
    CHECKS[command.program](command, location)


def test_a_broken_command_is_caught(location):
    """The checks fail for the mistakes they exist for: a missing -m, a renamed key, a misspelled config field."""
    def command(text: str) -> Command:
        from tests.doc_commands import _split

        return Command("README.md", 1, text, *_split(text))  # one simple command

    import dagster as dg

    mistakes = {
        "dagster asset materialize --select 'group:tabular'": "needs -m",
        "dagster asset materialize -m ztdl_pipeline.definitions --select 'key:\"models/banknotes_logreg\"'":
            "matches no asset",
        "dagster asset materialize -m ztdl_pipeline.definitions --select 'key:\"models/banknotes_logreg_model\"' "
        "--config-json '{\"ops\": {\"models__banknotes_logreg_model\": {\"config\": {\"epochz\": 5}}}}'": "epochz",
        "make runn": "no Makefile target 'runn'",
        "dg launch --assets 'group:tabular' --config-json '{\"ops\": {\"nope\": {}}}'": "nope",
        "curl -s http://127.0.0.1:8501/v1/model/wifi_fc": "not a route",
        "curl -s http://127.0.0.1:8501/v1/models/no_such_model": "no example no_such_model",
        "dagster instance migrat": "no command 'migrat'",
        "dagster-celery worker start -A dagster_celery.app -y ztdl_pipeline/instance/celery.yaml -q gpus": "not a queue",
        "curl -s http://127.0.0.1:3000/graphq": "graphq",
    }
    for text, problem in mistakes.items():
        broken = command(text)
        with pytest.raises((AssertionError, pytest.fail.Exception, dg.DagsterInvalidConfigError), match=problem):
            CHECKS[broken.program](broken, location)
    with pytest.raises(SystemExit):
        _check_serve(command("ztdl-serve --prot 9000"), location)
