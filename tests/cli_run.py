"""Running the ``specgym`` command in the test process, as the CLI tests all do."""

from specgym.cli import main


def run_cli(args, capsys):
    """``(exit code, stdout, stderr)`` of ``specgym ARGS``."""
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(capsys, argv) -> str:
    """Run ``specgym ARGV``, check it ends in exit 2 with one ``specgym: error:`` line, return that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("specgym: error: ") and err.count("\n") == 1, err
    return err
