"""Run every demo in demos/ one after the other; each writes its figure to demos/out/<name>.png.

    python demos/run_all.py            # full demos (a few minutes on a laptop)
    python demos/run_all.py --quick    # small sizes, seconds each
Any other flag (--backend cupy, --out DIR, --seed N) is passed on to every demo.
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    me = os.path.basename(__file__)
    demos = sorted(f for f in os.listdir(HERE) if f.endswith(".py") and f != me)
    failed = []
    for name in demos:
        start = time.perf_counter()
        print(f"=== {name}", flush=True)
        code = subprocess.call([sys.executable, os.path.join(HERE, name), *argv])
        verdict = "ok" if code == 0 else f"FAILED ({code})"
        print(f"=== {name}: {verdict} in {time.perf_counter() - start:.1f} s", flush=True)
        if code != 0:
            failed.append(name)
    print(f"{len(demos) - len(failed)}/{len(demos)} demos ran; figures in demos/out/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
