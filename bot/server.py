"""Train (when missing) and start the Rasa server from the app's environment, without importing rasa.

Rasa 3.6 lives in its own Python 3.10 environment (.venv-rasa, made by bot/setup_rasa.sh); this
module runs its command line. A model is named by the hash of what it is trained from (config.yml,
the domain, the training data), so a changed story or example retrains and an unchanged one does not.

    python -m bot.server                  train if needed, then serve on 127.0.0.1:5005
    python -m bot.server --train-only     just make sure the model exists (prints its path)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from knowledge.settings import REPOSITORY_ROOT

RASA_VENV = Path(os.environ.get("RASA_VENV") or REPOSITORY_ROOT / ".venv-rasa")
BOT_DIR = REPOSITORY_ROOT / "bot"
CONFIG = REPOSITORY_ROOT / "config.yml"
DOMAIN = BOT_DIR / "domain.yml"
DATA_DIR = BOT_DIR / "data"
MODELS_DIR = REPOSITORY_ROOT / "artifacts" / "rasa" / "models"
DEFAULT_PORT = 5005
DEFAULT_ACTION_URL = "http://127.0.0.1:8000/rasa/webhook"


def rasa_env(action_url: str = DEFAULT_ACTION_URL) -> dict[str, str]:
    env = dict(os.environ)
    token = env.get("ASSISTANT_RASA_ACTION_TOKEN")
    if token and "token=" not in action_url:  # the API's /rasa/webhook then requires it
        action_url += ("&" if "?" in action_url else "?") + urlencode({"token": token})
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_ACTION_ENDPOINT=action_url,
        # config.yml names a component of this repository (bot.rasa_components.FoldingTokenizer)
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPOSITORY_ROOT), env.get("PYTHONPATH")])),
        SANIC_HOST="127.0.0.1",
    )
    return env


def rasa_command(*args: str) -> list[str]:
    executable = RASA_VENV / "bin" / "rasa"
    if not executable.exists():
        raise FileNotFoundError(f"{executable} not found: run bot/setup_rasa.sh first")
    return [str(executable), *args]


def training_files() -> list[Path]:
    return [CONFIG, DOMAIN, *sorted(DATA_DIR.glob("*.yml"))]


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in training_files():
        digest.update(path.relative_to(REPOSITORY_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def train(models_dir: Path = MODELS_DIR, *, quiet: bool = False) -> Path:
    """Train the model now (about a minute on two cores); return its path."""
    name = f"tthc-{fingerprint()}"
    models_dir.mkdir(parents=True, exist_ok=True)
    command = rasa_command(
        "train",
        "--config", str(CONFIG),
        "--domain", str(DOMAIN),
        "--data", str(DATA_DIR),
        "--out", str(models_dir),
        "--fixed-model-name", name,
    )  # fmt: skip
    output = subprocess.DEVNULL if quiet else None
    subprocess.run(command, check=True, cwd=REPOSITORY_ROOT, env=rasa_env(), stdout=output, stderr=output)
    return models_dir / f"{name}.tar.gz"


def ensure_model(models_dir: Path = MODELS_DIR, *, quiet: bool = False) -> Path:
    """The model for the current training data, trained first when missing."""
    path = models_dir / f"tthc-{fingerprint()}.tar.gz"
    return path if path.exists() else train(models_dir, quiet=quiet)


def serve_command(model: Path, port: int = DEFAULT_PORT) -> list[str]:
    return rasa_command(
        "run",
        "--model", str(model),
        "--endpoints", str(BOT_DIR / "endpoints.yml"),
        "--credentials", str(BOT_DIR / "credentials.yml"),
        "--interface", "127.0.0.1",
        "--port", str(port),
    )  # fmt: skip


def start(model: Path, port: int, action_url: str, log_path: Path | None = None) -> subprocess.Popen:
    """Start the Rasa server in the background (127.0.0.1 only); stop it with ``stop``."""
    log = log_path.open("ab") if log_path else subprocess.DEVNULL
    return subprocess.Popen(
        serve_command(model, port),
        cwd=REPOSITORY_ROOT,
        env=rasa_env(action_url),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(url: str, timeout: float = 180.0, process: subprocess.Popen | None = None) -> None:
    """Wait until the server at ``url`` answers (loading a model takes tens of seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"Rasa exited with code {process.returncode} before it was ready")
        try:
            if httpx.get(f"{url.rstrip('/')}/", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"Rasa at {url} not ready after {timeout:.0f} s")


def stop(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """Stop a server started by ``start`` (its own process group), waiting for it to exit."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.server", description="Train if needed, then run Rasa.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", DEFAULT_PORT)))
    parser.add_argument("--action-url", default=os.environ.get("RASA_ACTION_ENDPOINT", DEFAULT_ACTION_URL))
    parser.add_argument("--train-only", action="store_true")
    args = parser.parse_args(argv)
    model = ensure_model()
    if args.train_only:
        print(model)
        return 0
    print(f"Rasa on http://127.0.0.1:{args.port} (model {model.name}, actions at {args.action_url})", file=sys.stderr)
    os.execve(serve_command(model, args.port)[0], serve_command(model, args.port), rasa_env(args.action_url))
    return 0  # not reached


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveStack:
    """The API (serving the actions) and a Rasa server wired to each other, on free local ports."""

    api_url: str
    rasa_url: str
    rasa: subprocess.Popen
    app: object


@contextmanager
def live_stack(service, model: Path, work_dir: Path, **settings) -> Iterator[LiveStack]:  # noqa: ANN001
    """Run the app (in a thread, with ``service``) and Rasa (a subprocess) for tests and benchmarks.

    Both stop when the block ends, whatever happens inside it.
    """
    import uvicorn

    from api.app import create_app
    from api.settings import ApiSettings

    api_port, rasa_port = free_port(), free_port()
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    values = {
        "database_url": f"sqlite:///{work_dir / 'assistant.sqlite3'}",
        "console_token": "live-stack",
        "rasa_url": rasa_url,
        "rate_limit_user_per_minute": 100_000,
        "rate_limit_ip_per_minute": 100_000,
        **settings,
    }
    app = create_app(ApiSettings(**values), service=service)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=api_port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    rasa = start(model, rasa_port, f"http://127.0.0.1:{api_port}/rasa/webhook", work_dir / "rasa.log")
    try:
        deadline = time.monotonic() + 60
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.1)
        wait_ready(rasa_url, process=rasa)
        yield LiveStack(f"http://127.0.0.1:{api_port}", rasa_url, rasa, app)
    finally:
        stop(rasa)
        server.should_exit = True
        thread.join(30)


if __name__ == "__main__":
    raise SystemExit(main())
