"""Each project's entry points, run in its own venv on a tiny real job of the stage.

A check passes when its process exits 0 and says what the job did (a table written, a model published,
a DAG count): an image that starts but does nothing is not a pass.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from data_gcp.image_rehearsal.stage import Stage
from data_gcp.image_rehearsal.venvs import ProjectEnv


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


def _tail(text: str, n: int = 600) -> str:
    return text.strip()[-n:]


def run_cli(
    env: ProjectEnv, stage: Stage, args: str, expect: str, timeout: float = 600, **environ: str
) -> str:
    """`data-gcp <args>` with the image's console script; the output must contain `expect`."""
    argv = [str(env.script("data-gcp")), *shlex.split(args)]
    try:
        result = subprocess.run(
            argv,
            cwd=stage.work,
            env=stage.environ(env.venv, **environ),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"ran over {timeout:.0f} s") from None
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}: {_tail(output)}")
    if expect not in output:
        raise AssertionError(f"{expect!r} not in its output: {_tail(output)}")
    return output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dockerfile_cmd(dockerfile: Path) -> list[str]:
    """The image's `CMD [...]` (exec form), as the container runs it."""
    for line in reversed(dockerfile.read_text(encoding="utf-8").splitlines()):
        if line.startswith("CMD "):
            return json.loads(line.removeprefix("CMD "))
    raise AssertionError(f"{dockerfile}: no CMD line")


@contextlib.contextmanager
def serving(env: ProjectEnv, stage: Stage, cmd: list[str], ready_seconds: float = 120) -> Iterator[str]:
    """The Dockerfile's CMD on a free local port; yields its base URL once `/isalive` answers 200."""
    port = _free_port()
    argv = [str(env.script(cmd[0])), *cmd[1:]]
    argv = [a if a != "0.0.0.0" else "127.0.0.1" for a in argv]  # noqa: S104 - rewritten, not bound
    if "--port" in argv:
        argv[argv.index("--port") + 1] = str(port)
    log = stage.work / f"{env.project}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(argv, cwd=stage.work, env=stage.environ(env.venv), stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_seconds
        last = "no answer"
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"exited {proc.returncode} at start: {_tail(log.read_text())}")
            try:
                res = httpx.get(f"{url}/isalive", timeout=5)
                if res.status_code == 200:
                    break
                last = f"/isalive {res.status_code}: {res.text[:300]}"
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.5)
        else:
            raise AssertionError(f"/isalive not 200 after {ready_seconds:.0f} s ({last})")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def predict(url: str, payload: dict) -> str:
    res = httpx.post(f"{url}/predict", json=payload, timeout=60)
    body = res.json() if res.headers.get("content-type", "").startswith("application/json") else {}
    if res.status_code != 200 or not body.get("predictions"):
        raise AssertionError(f"/predict {res.status_code}: {res.text[:300]}")
    return f"{len(body['predictions'])} predictions, model {body.get('model_version')}"


_DAGBAG = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
errors = {k.rsplit("/", 1)[-1]: v.strip().splitlines()[-1][:300] for k, v in bag.import_errors.items()}
sys.stdout.write(chr(10) + json.dumps({"dags": sorted(bag.dag_ids), "errors": errors}) + chr(10))
"""


def dagbag(env: ProjectEnv, stage: Stage, dags: Path, expected: int, **environ: str) -> str:
    """Parse the DAGs folder with the venv's Airflow: zero import errors, every DAG of the table."""
    home = stage.work / f"airflow-{environ.get('DATA_GCP_ENV', 'local')}"
    home.mkdir(exist_ok=True)
    airflow = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }
    result = subprocess.run(
        [str(env.python), "-c", _DAGBAG, str(dags)],
        cwd=stage.work,
        env=stage.environ(env.venv, **airflow, **environ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}: {_tail(result.stderr)}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    if data["errors"]:
        raise AssertionError(f"{len(data['errors'])} DAG file(s) fail: {data['errors']}")
    if len(data["dags"]) != expected:
        raise AssertionError(f"{len(data['dags'])} DAGs loaded, the schedule table has {expected}")
    return f"{len(data['dags'])} DAGs, 0 import errors"


Check = tuple[str, Callable[[], str]]


def timed(name: str, fn: Callable[[], object]) -> CheckResult:
    started = time.monotonic()
    try:
        detail = fn()
    except AssertionError as exc:
        return CheckResult(name, False, time.monotonic() - started, str(exc))
    except Exception as exc:  # noqa: BLE001 - a rehearsal reports every failure and goes on
        return CheckResult(name, False, time.monotonic() - started, f"{type(exc).__name__}: {exc}")
    return CheckResult(name, True, time.monotonic() - started, detail if isinstance(detail, str) else "")


def first_user(stage: Stage) -> str:
    """A user the ML job trained on (the retrieval request's subject)."""
    from data_gcp.warehouse import get_warehouse

    wh = get_warehouse(stage.settings())
    return wh.query(f"select min(user_id) as u from {wh.physical('ml.ml_reco__user_features')}").to_pylist()[
        0
    ]["u"]


def found(pattern: str, text: str) -> str:
    """The first match of `pattern` in a job's output (the check's detail)."""
    match = re.search(pattern, text)
    return match.group(0) if match else ""
