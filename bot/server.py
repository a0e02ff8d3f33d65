"""Train (when missing) and start the Rasa server from the app's environment, without importing rasa.

Rasa 3.6 lives in its own Python 3.10 environment (.venv-rasa, made by bot/setup_rasa.sh); this
module runs its command line. A model is named by the hash of what it is trained from (config.yml,
the domain, the training data), so a changed story or example retrains and an unchanged one does not.

    python -m bot.server                  train if needed, then serve on 127.0.0.1:5005
    python -m bot.server --train-only     just make sure the model exists (prints its path)

Its environment variables are read through ``RasaServerSettings`` (bot/settings.py). Tracker store
and lock store: in Rasa's memory unless ``ASSISTANT_RASA_TRACKER_STORE_URL`` and
``ASSISTANT_RASA_LOCK_STORE_URL`` are set (bot/stores.py); then an endpoints file with those
sections is written next to the models and Rasa is started with it (several Rasa instances can then
share the conversations). ``ASSISTANT_RETENTION_DAYS`` also expires idle trackers in a Redis store.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

import httpx
import yaml

from bot.settings import DEFAULT_ACTION_URL, DEFAULT_PORT, RasaServerSettings
from bot.stores import RasaStores
from knowledge.settings import REPOSITORY_ROOT

RASA_VENV = RasaServerSettings.read().venv_path
BOT_DIR = REPOSITORY_ROOT / "bot"
CONFIG = REPOSITORY_ROOT / "config.yml"
DOMAIN = BOT_DIR / "domain.yml"
DATA_DIR = BOT_DIR / "data"
MODELS_DIR = REPOSITORY_ROOT / "artifacts" / "rasa" / "models"
ENDPOINTS = BOT_DIR / "endpoints.yml"
GENERATED_DIR = REPOSITORY_ROOT / "artifacts" / "rasa"


def rasa_env(
    action_url: str = DEFAULT_ACTION_URL, stores: RasaStores | None = None, settings: RasaServerSettings | None = None
) -> dict[str, str]:
    """Rasa's environment: this process's, the store passwords, and the action URL with the API's token."""
    settings = RasaServerSettings.read() if settings is None else settings
    env = dict(os.environ)  # Rasa inherits the whole environment (PATH, locale, proxies...)
    if stores is not None:
        env.update(stores.environment)  # the store passwords the endpoints file refers to
    token = settings.action_token
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


def stores_from_environment(env: Mapping[str, str] | None = None) -> RasaStores:
    """The tracker and lock stores configured in the environment, or in ``env`` (none: both in Rasa's memory)."""
    return RasaServerSettings.read(env).stores()


def endpoints_file(stores: RasaStores, directory: Path = GENERATED_DIR) -> Path:
    """bot/endpoints.yml, plus the store sections when there are any (written once per configuration).

    The file is named by the hash of its content and holds no password, so concurrent starts with
    the same configuration share it and different configurations never overwrite each other.
    """
    if not stores.sections:
        return ENDPOINTS
    config = {**yaml.safe_load(ENDPOINTS.read_text(encoding="utf-8")), **stores.sections}
    text = "# Written by bot/server.py from bot/endpoints.yml and the store URLs; do not edit.\n"
    text += yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    path = directory / f"endpoints-{hashlib.sha256(text.encode()).hexdigest()[:12]}.yml"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return path


def serve_command(
    model: Path, port: int = DEFAULT_PORT, endpoints: Path = ENDPOINTS, interface: str = "127.0.0.1"
) -> list[str]:
    return rasa_command(
        "run",
        "--model", str(model),
        "--endpoints", str(endpoints),
        "--credentials", str(BOT_DIR / "credentials.yml"),
        "--interface", interface,
        "--port", str(port),
    )  # fmt: skip


def start(
    model: Path,
    port: int,
    action_url: str,
    log_path: Path | None = None,
    stores: RasaStores | None = None,
    endpoints_dir: Path = GENERATED_DIR,
) -> subprocess.Popen:
    """Start the Rasa server in the background (127.0.0.1 only); stop it with ``stop``.

    ``stores``: the tracker and lock stores (default: those configured in the environment);
    ``endpoints_dir``: where their endpoints file is written (tests: a temporary directory).
    """
    stores = stores_from_environment() if stores is None else stores
    log = log_path.open("ab") if log_path else subprocess.DEVNULL
    return subprocess.Popen(
        serve_command(model, port, endpoints_file(stores, endpoints_dir)),
        cwd=REPOSITORY_ROOT,
        env=rasa_env(action_url, stores),
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
    settings = RasaServerSettings.read()
    parser = argparse.ArgumentParser(prog="python -m bot.server", description="Train if needed, then run Rasa.")
    parser.add_argument("--port", type=int, default=settings.port)
    parser.add_argument("--action-url", default=settings.action_url)
    # Another address than loopback only where a balancer in front of several Rasa instances needs it.
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--train-only", action="store_true")
    args = parser.parse_args(argv)
    model = ensure_model()
    if args.train_only:
        print(model)
        return 0
    stores = settings.stores()
    command = serve_command(model, args.port, endpoints_file(stores), args.host)
    where = ", ".join(f"{name} {section['type']}" for name, section in stores.sections.items()) or "stores in memory"
    print(
        f"Rasa on http://{args.host}:{args.port} (model {model.name}, actions at {args.action_url}, {where})",
        file=sys.stderr,
    )
    os.execve(command[0], command, rasa_env(args.action_url, stores, settings))
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
