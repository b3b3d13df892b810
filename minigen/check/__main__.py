"""The command line of exercise mode.

    python -m minigen.check list                      the exercises
    python -m minigen.check skeleton NAME > my.py     the file a student starts from
    python -m minigen.check NAME my.py [--json FILE] [--seed S]   check the function in my.py

Exit status: 0 every property passes, 1 a property fails, 2 the student's code raised, has the
wrong signature or could not be imported, 3 a usage error (unknown exercise, missing file).
"""
import argparse
import importlib.util
import os
import sys
import traceback

from minigen import check


def load_function(path, name):
    """The function ``name`` defined in the file ``path`` (imported as a fresh module)."""
    spec = importlib.util.spec_from_file_location("student_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, name):
        raise AttributeError(f"{path} defines no function {name}")
    return getattr(module, name)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigen.check", description=__doc__.split(
        "\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("command", help="list, skeleton, or an exercise name")
    parser.add_argument("arg", nargs="?", help="the exercise (skeleton) or the student's file")
    parser.add_argument("--json", help="also write the report as JSON to this file")
    parser.add_argument("--seed", type=int, default=0)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 0 if exit_.code == 0 else 3
    if args.command == "list":
        for name, title in check.list().items():
            print(f"{name:24} {title}")
        return 0
    try:
        exercise = check.find(args.arg if args.command == "skeleton" else args.command)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 3
    if args.command == "skeleton":
        print(exercise.contract.skeleton(exercise.name), end="")
        return 0
    if args.arg is None or not os.path.isfile(args.arg):
        print(f"usage: python -m minigen.check {exercise.name} STUDENT_FILE.py; "
              f"no file {args.arg!r}", file=sys.stderr)
        return 3
    try:
        fn = load_function(args.arg, exercise.contract.function)
    except Exception as err:                                            # noqa: BLE001
        frames = traceback.format_exception(type(err), err, err.__traceback__)
        print(f"could not load {exercise.contract.function} from {args.arg}:\n"
              + "".join(f for f in frames if "importlib" not in f and "minigen" not in f),
              file=sys.stderr)
        return 2
    report = exercise.run(fn, seed=args.seed)
    print(report)
    if args.json:
        with open(args.json, "w") as f:
            f.write(report.to_json())
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
