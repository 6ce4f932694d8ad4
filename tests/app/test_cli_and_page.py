"""The `njforecast app` command's input errors, its loopback default, and a page that loads only
what the app serves (offline)."""

import re
import socket
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from njforecast.cli import app as cli

STATIC = Path(__file__).resolve().parents[2] / "njforecast" / "app" / "static"


def test_app_command_bad_input_exits_2_without_traceback(tmp_path):
    """A missing config, an impossible port and a taken port exit 2 with a message, no traceback."""
    runner = CliRunner()
    r = runner.invoke(cli, ["app", "--config", str(tmp_path / "nope.toml")])
    assert r.exit_code == 2 and "config file not found" in r.output
    r = runner.invoke(cli, ["app", "--port", "70000"])
    assert r.exit_code == 2 and "not a port number" in r.output
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        r = runner.invoke(cli, ["app", "--port", str(port)])
    assert r.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in r.output
    assert "Traceback" not in r.output


def test_app_binds_loopback_by_default():
    """Both the command and serve() default to 127.0.0.1."""
    import inspect

    from njforecast.app import serve

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    r = CliRunner().invoke(cli, ["app", "--help"])
    assert r.exit_code == 0 and "127.0.0.1" in r.output


def test_page_loads_nothing_from_outside(base_url):
    """The page's files name no outside address and every answer forbids loading from elsewhere."""
    for f in STATIC.iterdir():
        text = f.read_text(encoding="utf-8")
        outside = [u for u in re.findall(r"https?://[^\s\"'`)]+", text)
                   if not u.startswith(("http://127.0.0.1", "http://www.w3.org/2000/svg"))]
        assert not outside, (f.name, outside)
    with urllib.request.urlopen(base_url + "/", timeout=30) as r:
        html = r.read().decode()
        csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    for src in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert src.startswith("/static/"), src
        with urllib.request.urlopen(base_url + src, timeout=30) as r:
            assert r.status == 200
