#!/usr/bin/env python3
"""`perf script` output -> folded stacks -> a self-contained SVG flame graph (no FlameGraph checkout needed).

    perf script -i perf.data | python3 bench/flamegraph.py --folded out.folded --svg out.svg --title "S3 PutObject 1 KiB"
    python3 bench/flamegraph.py --from-folded out.folded --svg out.svg          # redraw from folded text

Folded format (as Brendan Gregg's stackcollapse-perf.pl writes it): one line per distinct stack,
`thread;outermost;...;innermost <samples>`. Thread names lose their trailing numbers (NIO-ELT-0-#1 -> NIO-ELT),
so the threads of one pool fold together. Swift symbols are demangled with `swift-demangle --simplified` when it
is on PATH (or next to swift in /opt/swift/usr/bin). Frames under --min-percent of all samples are dropped from the
SVG (not from the folded text) to keep the file small. The SVG shows each frame's share on hover (<title>).
"""

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict

HEADER = re.compile(r"^(\S.*?)\s+(\d+)(?:/(\d+))?\s+(?:\[\d+\]\s+)?[\d.]+:\s*(\d+)?\s*\S*:")
FRAME = re.compile(r"^\s+[0-9a-f]+\s+(.+?)\s+\((.*)\)\s*$")
OFFSET = re.compile(r"\+0x[0-9a-f]+$")


# Frames every event-loop or worker stack starts with: dropped from the folded text (they say nothing, and the
# files are checked in).
BOILERPLATE = re.compile(r"^(clone3|start_thread|_start|__libc_start_main.*|thunk for @escaping @callee_guaranteed \(@guaranteed NIOThread\).*"
                         r"|.*ThreadOpsPosix\.run.*|.*setupThreadAndEventLoop.*|.*runTheLoop.*|specialized withAutoReleasePool.*"
                         r"|partial apply for thunk for @callee_guaranteed.*|thunk for @callee_guaranteed.*)$")
MAX_FRAME = 110
RARE_DEPTH = 12


def shorten(stack):
    """Drop boilerplate frames and cut very long (Swift generic) names."""
    frames = stack.split(";")
    kept = [frames[0]] + [f if len(f) <= MAX_FRAME else f[:MAX_FRAME - 2] + ".." for f in frames[1:] if not BOILERPLATE.match(f)]
    return ";".join(kept)


def fold(lines, keep_thread=True):
    """Folded stacks {stack: samples} from `perf script` text."""
    stacks = defaultdict(int)
    comm, frames = None, []

    def flush():
        if comm is None:
            return
        names = [comm] if keep_thread else []
        names += reversed(frames) if frames else ["[unknown]"]
        stacks[";".join(names)] += 1

    for line in lines:
        if not line.strip():
            flush()
            comm, frames = None, []
            continue
        if not line[0].isspace():
            flush()
            frames = []
            m = HEADER.match(line)
            name = m.group(1) if m else line.split()[0]
            comm = re.sub(r"[-#\d]+$", "", name.strip()) or name.strip()
            continue
        m = FRAME.match(line)
        if not m:
            continue
        sym, dso = m.group(1), m.group(2)
        if sym == "[unknown]":
            sym = f"[{os.path.basename(dso)}]"
        frames.append(OFFSET.sub("", sym).replace(";", ":"))
    flush()
    return stacks


def demangler():
    for cand in (shutil.which("swift-demangle"), "/opt/swift/usr/bin/swift-demangle"):
        if cand and os.path.exists(cand):
            return cand
    return None


def demangle(text):
    tool = demangler()
    if not tool:
        return text
    r = subprocess.run([tool, "--simplified"], input=text, capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else text


def folded_text(stacks):
    """Demangled, shortened folded text (stacks that become equal are merged)."""
    merged = defaultdict(int)
    for line in demangle("".join(f"{k} {v}\n" for k, v in stacks.items())).splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            merged[shorten(stack)] += int(n)
    # Rare stacks (under 3 samples) are cut to their outer frames and merged there: the totals stay exact, the file small.
    small = defaultdict(int)
    for k, v in merged.items():
        small[k if v >= 3 else ";".join(k.split(";")[:RARE_DEPTH])] += v
    return "".join(f"{k} {v}\n" for k, v in sorted(small.items()))


def read_folded(text):
    stacks = defaultdict(int)
    for line in text.splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            stacks[stack] += int(n)
    return stacks


class Node:
    __slots__ = ("name", "value", "children")

    def __init__(self, name):
        self.name, self.value, self.children = name, 0, {}


def tree(stacks):
    root = Node("all")
    for stack, n in stacks.items():
        root.value += n
        node = root
        for name in stack.split(";"):
            node = node.children.setdefault(name, Node(name))
            node.value += n
    return root


def color(name):
    h = 0
    for ch in name:
        h = (h * 31 + ord(ch)) & 0xFFFFFFFF
    if name.startswith("[") or "kernel" in name or name.startswith(("__x64_sys", "do_syscall", "entry_SYSCALL")):
        return f"rgb({200 + h % 40},{100 + h % 60},{80 + h % 40})"   # kernel/unknown: darker orange
    return f"rgb({225 + h % 30},{110 + (h >> 8) % 110},{30 + (h >> 16) % 50})"


def svg(stacks, title, min_percent=0.25, width=1200, row=16):
    root = tree(stacks)
    total = root.value or 1
    minv = total * min_percent / 100
    rects = []

    def depth_of(node):
        return 1 + max((depth_of(c) for c in node.children.values() if c.value >= minv), default=0)

    depth = depth_of(root)
    top = 40
    height = top + depth * row + 20

    def walk(node, x, level):
        w = node.value / total * (width - 20)
        y = top + (depth - level - 1) * row
        pct = node.value * 100 / total
        label = node.name
        chars = int(w / 7)
        shown = label if len(label) <= chars else (label[:max(chars - 2, 0)] + ".." if chars > 3 else "")
        rects.append(
            f'<g><title>{html.escape(label)} ({node.value} samples, {pct:.2f}%)</title>'
            f'<rect x="{x + 10:.1f}" y="{y}" width="{max(w - 0.5, 0.1):.1f}" height="{row - 1}" fill="{color(label)}" rx="2"/>'
            + (f'<text x="{x + 13:.1f}" y="{y + row - 4}">{html.escape(shown)}</text>' if shown else "")
            + "</g>")
        cx = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            if child.value >= minv:
                walk(child, cx, level + 1)
            cx += child.value / total * (width - 20)

    walk(root, 0, 0)
    return (f'<?xml version="1.0" standalone="no"?>\n'
            f'<svg version="1.1" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">\n'
            f'<style>text{{font:11px monospace;fill:#000;pointer-events:none}} rect:hover{{stroke:#000}}</style>\n'
            f'<rect width="100%" height="100%" fill="#fdfdf6"/>\n'
            f'<text x="{width / 2}" y="20" style="font-size:15px" text-anchor="middle">{html.escape(title)}</text>\n'
            f'<text x="10" y="34">{total} samples; frames under {min_percent}% hidden; hover for names</text>\n'
            + "\n".join(rects) + "\n</svg>\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("input", nargs="?", help="perf script output (default: stdin)")
    p.add_argument("--from-folded", help="read folded stacks instead of perf script output")
    p.add_argument("--folded", help="write folded stacks here")
    p.add_argument("--svg", help="write the SVG here")
    p.add_argument("--title", default="CPU flame graph")
    p.add_argument("--min-percent", type=float, default=0.25)
    a = p.parse_args(argv)
    if a.from_folded:
        with open(a.from_folded) as f:
            stacks = read_folded(f.read())
    else:
        src = open(a.input, errors="replace") if a.input else sys.stdin
        text = folded_text(fold(src))
        if a.folded:
            with open(a.folded, "w") as f:
                f.write(text)
        stacks = read_folded(text)
    if a.svg:
        with open(a.svg, "w") as f:
            f.write(svg(stacks, a.title, a.min_percent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
