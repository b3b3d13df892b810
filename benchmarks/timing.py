"""The clock the benchmark scripts share: wall and process CPU seconds of one call."""
import time


def timed(f):
    """Run f(); return (its result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = f()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def print_table(rows):
    """Print (task, wall s, CPU s, figure) rows as a markdown table."""
    print("| task | wall s | CPU s | figure |")
    print("| --- | ---: | ---: | --- |")
    for name, wall, cpu, fig in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {fig} |")
