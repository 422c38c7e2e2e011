"""The README's two commands stay true: .ci/run runs exactly the test command,
and the main-job command names files that exist."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quick, flags=re.S)


def test_quick_start_has_exactly_two_commands():
    cmds = _commands()
    assert len(cmds) == 2 and all("\n" not in c for c in cmds)


def test_ci_runs_the_readme_test_command():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert _commands()[1] in [line.strip() for line in run]


def test_main_command_uses_the_shipped_sample():
    main = _commands()[0]
    words = shlex.split(main.replace("&&", " "))
    analyze = words.index("analyze")
    sample = ROOT / words[analyze + 1]
    assert sample.exists() and sample.parent.name == "examples"
    assert sum(1 for _ in sample.open(encoding="utf-8")) > 60
