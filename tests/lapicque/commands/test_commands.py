"""The command layer: every command a module, its options reaching its job under the job's own names and
defaults, its outputs named in --help; `lapicque --version`."""

import inspect
import subprocess
import sys

import pytest

import lapicque
from lapicque.cli import build_parser
from lapicque.commands import COMMANDS
from lapicque.commands.options import job_arguments

# the least each command needs on its command line
REQUIRED = {"net": ["cuba"], "report": ["runs/x"], "run": ["--board", "icebreaker", "--port", "x"],
            "build": ["--board", "icebreaker"], "nir": ["import", "net.nir"], "sweep": ["s.toml"]}
CLI_ONLY = {"command", "handler", "list_boards", "action"}  # argparse's own, build's board list, nir's action


def arguments_of(command, argv=()):
    args = build_parser().parse_args([command.NAME, *REQUIRED.get(command.NAME, []), *argv])
    translate = getattr(command, "arguments", None)
    return args, (translate(args) if translate else job_arguments(args, command.job))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.NAME)
def test_every_option_reaches_the_job_with_the_same_default(command):
    args, kwargs = arguments_of(command)
    parameters = inspect.signature(command.job).parameters
    assert set(kwargs) <= set(parameters)
    handed = set(kwargs) | {"param"} if command.NAME == "fi" else set(kwargs)  # fi: --param becomes params
    assert set(vars(args)) - CLI_ONLY <= handed, "an option the job never sees"
    for name, value in kwargs.items():
        default = parameters[name].default
        if name == "out" or default is inspect.Parameter.empty:
            continue  # the command's default folder; the job writes nothing without one
        assert value == default, f"{command.NAME} --{name.replace('_', '-')}: {value!r} against the job's {default!r}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.NAME)
def test_help_names_the_outputs_and_the_job_is_documented(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([command.NAME, "--help"])
    assert exit_.value.code == 0
    printed = capsys.readouterr().out
    assert "outputs: " in printed and command.OUTPUTS.split(",")[0].split()[0] in printed
    assert command.job.__doc__ and "Returns" in command.job.__doc__ or command.NAME == "explore"
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in inspect.signature(command.job).parameters.values())


def test_options_are_handed_over_as_typed():
    from lapicque.commands import fi, lca

    _, kwargs = arguments_of(lca, ["--weight-bits", "6", "--lam", "0.05", "--backend", "rtl", "--lanes", "2"])
    assert (kwargs["weight_bits"], kwargs["lam"], kwargs["backend"], kwargs["lanes"]) == (6, 0.05, "rtl", 2)
    _, kwargs = arguments_of(fi, ["--param", "tau_m=20", "--param", "t_ref=1", "--currents", "0:10:3"])
    assert kwargs["params"] == {"tau_m": 20.0, "t_ref": 1.0} and list(kwargs["currents"]) == [0.0, 5.0, 10.0]


def test_version():
    result = subprocess.run([sys.executable, "-m", "lapicque", "--version"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"lapicque {lapicque.__version__}"


def test_the_command_modules_stay_small():
    import lapicque.cli

    for module in (lapicque.cli, *COMMANDS):
        lines = len(inspect.getsource(module).splitlines())
        assert lines <= 150, f"{module.__name__} has {lines} lines: move computation into its job"
