"""Under a locale whose encoding lacks a character (latin-1 servers, some SSH clients), the commands print
its escape: never a UnicodeEncodeError after the work is done, which turned a finished build into exit 1."""

from __future__ import annotations

import os
import subprocess
import sys

PRINTS = ("from pipeline.cli.console import output_console, quiet_when_reader_leaves\n"
          "quiet_when_reader_leaves()\n"
          "print('A \\u2014: 李 edited')\n"
          "output_console().print('table cell \\u2014 李')\n"
          "sys.stderr.write('warning \\u2014 李\\n')\n")


def run_under_latin1(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "latin-1", "PYTHONUTF8": "0"}
    return subprocess.run([sys.executable, "-c", f"import sys\n{code}"], capture_output=True, env=env, timeout=60)


def test_characters_the_encoding_lacks_are_printed_as_escapes():
    printed = run_under_latin1(PRINTS)
    assert printed.returncode == 0, printed.stderr.decode("latin-1")
    assert printed.stdout.decode("latin-1").splitlines() == ["A \\u2014: \\u674e edited", "table cell \\u2014 \\u674e"]
    assert printed.stderr.decode("latin-1") == "warning \\u2014 \\u674e\n"


def test_characters_the_encoding_has_are_printed_as_they_are():
    printed = run_under_latin1("from pipeline.cli.console import quiet_when_reader_leaves\n"
                               "quiet_when_reader_leaves()\nprint('café für Jürgen')")
    assert printed.returncode == 0 and printed.stdout.decode("latin-1") == "café für Jürgen\n"
