"""The scale-out stack's files: docker-compose.yml, Dockerfile and .dockerignore, and gunicorn for real.

No Docker engine runs here, so the compose file is read with PyYAML (merge keys resolved) and
interpolated the way Compose does, and the Dockerfile with a small instruction parser; each
check ties the files to the code they start (settings table, console script, WSGI module,
health probes, packages) so that a change on either side that breaks the stack fails here.
The last test serves the app with the pinned gunicorn over HTTP.
"""

from __future__ import annotations

import fnmatch
import http.cookiejar
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from foundation.config import SETTINGS, load_settings
from pipeline.queue import queue_name
from tests._redis import free_port
from webui import health

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

DECLARED = {s.name for s in SETTINGS}
APP_SERVICES = ("init", "web", "worker")
LONG_RUNNING = ("opensearch", "postgres", "redis", "web", "worker")
#: What the scale-out profile cannot run without, in every app container.
SCALE_OUT_SETTINGS = ("DOSSIER_DATABASE_URL", "DOSSIER_OPENSEARCH_URL", "DOSSIER_REDIS_URL", "DOSSIER_HOME")
#: The secrets `docker compose up` must refuse to start without (read from .env).
SECRETS = ("POSTGRES_PASSWORD", "DOSSIER_SECRET_KEY", "DOSSIER_ADMIN_PASSWORD")
SECRET_ENV = {
    "POSTGRES_PASSWORD": "pgPassw0rd42",
    "DOSSIER_SECRET_KEY": "k" * 40,
    "DOSSIER_ADMIN_PASSWORD": "Deploy-admin-Passw0rd-7",
}


# -- Compose: interpolation as `docker compose` does it ---------------------------------------


class MissingVariable(Exception):
    """A ``${VAR:?message}`` (or ``${VAR?message}``) whose variable is unset."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


_VARIABLE = re.compile(
    r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?err}``, ``${VAR?err}``, ``$$``."""

    def substitute(match: re.Match[str]) -> str:
        escaped, name, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        name = name or bare
        value = env.get(name)
        if operator is None:
            return value or ""
        missing = not value if operator.startswith(":") else value is None
        if operator.endswith("-"):
            return argument if missing else str(value)
        if missing:
            raise MissingVariable(name, argument)
        return str(value)

    return _VARIABLE.sub(substitute, text)


def _interpolated(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_interpolated(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _interpolated(value, env) for key, value in node.items()}
    return node


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml with its anchors merged and its variables filled from ``env`` (the secrets by default)."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return _interpolated(raw, dict(SECRET_ENV) if env is None else env)


def service_env(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping (Compose accepts a list of KEY=VALUE too)."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {str(k): "" if v is None else str(v) for k, v in environment.items()}


def volume_mounts(service: dict[str, Any]) -> dict[str, str]:
    """``{container path: source}`` of a service's short-syntax volumes."""
    mounts = {}
    for entry in service.get("volumes") or []:
        source, target = entry.split(":")[:2]
        mounts[target] = source
    return mounts


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    """The compose file's services, interpolated with the secrets set."""
    return compose()["services"]


# -- Dockerfile: a small instruction parser -----------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """``[(INSTRUCTION, arguments)]`` with ``\\`` continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # Docker drops comment and empty lines, inside continuations too
        if stripped.endswith("\\"):
            pending += stripped[:-1].strip() + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, f"Dockerfile ends inside a continuation: {pending!r}"
    return instructions


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions."""
    return dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))


def _all(instructions: list[tuple[str, str]], keyword: str) -> list[str]:
    return [args for key, args in instructions if key == keyword]


def dockerfile_env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    """Every ``ENV KEY=VALUE`` of the Dockerfile (later ones win)."""
    env: dict[str, str] = {}
    for args in _all(instructions, "ENV"):
        for item in shlex.split(args):
            key, sep, value = item.partition("=")
            assert sep, f"ENV {args!r}: use the KEY=VALUE form"
            env[key] = value
    return env


def apt_installs(instructions: list[tuple[str, str]]) -> list[tuple[list[str], bool]]:
    """``[(packages, conditional)]`` of every ``apt-get install`` in a RUN (conditional: inside ``if … then``)."""
    found = []
    for args in _all(instructions, "RUN"):
        for segment in re.split(r"&&|;|\|\|", args):
            words = shlex.split(segment)
            conditional = bool(words) and words[0] == "then"
            words = words[1:] if conditional else words
            if words[:2] == ["apt-get", "install"]:
                found.append(([w for w in words[2:] if not w.startswith("-")], conditional))
    return found


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form CMD/HEALTHCHECK CMD (shell form is refused: signals would miss PID 1)."""
    assert args.startswith("["), f"use the exec form (a JSON array), not {args!r}"
    return json.loads(args)


def dockerignored(path: str) -> bool:
    """True when .dockerignore keeps ``path`` (relative to the root) out of the build context."""
    patterns = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()]
    parts = Path(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if any(
            fnmatch.fnmatchcase(c, pattern) or fnmatch.fnmatchcase(c, pattern.removeprefix("**/"))
            for c in candidates
        ):
            excluded = not negated
    return excluded


def _requirement_names() -> dict[str, str]:
    """``{normalised name: pinned version}`` of requirements.txt."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name.split("[", 1)[0]).lower()] = version.strip()
    return pins


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


# -- docker-compose.yml ----------------------------------------------------------------------------


def test_compose_describes_the_scale_out_stack() -> None:
    """Compose spec without the obsolete `version:` key, and exactly the services of the scale-out profile."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert "version" not in raw
    assert set(raw["services"]) == {"opensearch", "postgres", "redis", "init", "web", "worker"}


def test_long_running_services_have_healthchecks_and_restart_policies(services: dict[str, Any]) -> None:
    """Every service but the one-shot init has a real healthcheck and restarts unless stopped; init never restarts."""
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck") or {}
        assert not check.get("disable"), name
        assert check.get("test") and check["test"][0] in ("CMD", "CMD-SHELL"), f"{name}: {check}"
        assert services[name].get("restart") == "unless-stopped", name
    init = services["init"]
    assert init["restart"] == "no"
    assert init["healthcheck"] == {"disable": True}, (
        "the image's web HEALTHCHECK must not judge the one-shot init"
    )


def test_start_order_waits_for_health_and_for_init(services: dict[str, Any]) -> None:
    """init waits for healthy PostgreSQL and OpenSearch; web and worker for a finished init and healthy services."""
    assert services["init"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "opensearch": {"condition": "service_healthy"},
    }
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["init"] == {"condition": "service_completed_successfully"}, name
        for backing in ("postgres", "opensearch", "redis"):
            assert depends[backing] == {"condition": "service_healthy"}, (name, backing)
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            if rule["condition"] == "service_healthy":
                assert services[target].get("healthcheck", {}).get("test"), (
                    f"{name} waits on {target}, which has no healthcheck"
                )


def test_worker_scales(services: dict[str, Any]) -> None:
    """`docker compose up --scale worker=N` needs a worker without container_name, published ports or hostname."""
    worker = services["worker"]
    for key in ("container_name", "ports", "hostname"):
        assert key not in worker, key
    assert worker["command"] == ["dossier", "worker"]


def test_only_the_web_app_publishes_a_port(services: dict[str, Any]) -> None:
    """OpenSearch runs without its security plugin, PostgreSQL and Redis on the compose network only."""
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"web"}
    (mapping,) = services["web"]["ports"]
    assert mapping.rsplit(":", 1)[1] == "8000"


def test_blobs_live_on_one_shared_volume_at_dossier_home(services: dict[str, Any], instructions) -> None:
    """init, web and every worker mount the same named volume at DOSSIER_HOME, which the image declares as VOLUME."""
    top_level = compose()["volumes"]
    sources = set()
    for name in APP_SERVICES:
        home = service_env(services[name])["DOSSIER_HOME"]
        mounts = volume_mounts(services[name])
        assert home in mounts, f"{name}: nothing mounted at DOSSIER_HOME={home}"
        sources.add(mounts[home])
    assert len(sources) == 1, f"the app services mount different volumes at DOSSIER_HOME: {sources}"
    (volume,) = sources
    assert volume in top_level, "the shared volume must be a named volume"
    image_home = dockerfile_env(instructions)["DOSSIER_HOME"]
    assert image_home == home
    assert home in json.loads(_all(instructions, "VOLUME")[0])


def test_every_dossier_variable_is_a_declared_setting() -> None:
    """A DOSSIER_* name in docker-compose.yml or the Dockerfile that settings do not declare would be ignored silently."""
    used = set()
    for path in (COMPOSE_FILE, DOCKERFILE):
        used |= set(re.findall(r"\bDOSSIER_[A-Z0-9_]+\b", path.read_text(encoding="utf-8")))
    assert used, "no DOSSIER_* variable found: the parser is broken"
    assert used <= DECLARED, f"undeclared settings: {sorted(used - DECLARED)}"
    for name, service in compose()["services"].items():
        undeclared = {k for k in service_env(service) if k.startswith("DOSSIER") and k not in DECLARED}
        assert not undeclared, (name, undeclared)


def test_scale_out_settings_point_at_the_services(services: dict[str, Any]) -> None:
    """Every app container reaches PostgreSQL, OpenSearch and Redis by service name, with one database URL (one queue)."""
    postgres = service_env(services["postgres"])
    queues = set()
    for name in APP_SERVICES:
        env = service_env(services[name])
        for setting in SCALE_OUT_SETTINGS:
            assert env.get(setting), f"{name}: {setting} is not set"
        settings = load_settings(environ=env, dotenv=Path("/nonexistent"))
        url = make_url(settings.database_url)
        assert url.get_backend_name() == "postgresql"
        assert (url.host, url.port, url.database) == ("postgres", 5432, postgres["POSTGRES_DB"])
        assert (url.username, url.password) == (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"])
        search = urllib.parse.urlsplit(settings.get("DOSSIER_OPENSEARCH_URL"))
        assert (search.scheme, search.hostname, search.port) == ("http", "opensearch", 9200)
        queue = urllib.parse.urlsplit(settings.get("DOSSIER_REDIS_URL"))
        assert (queue.scheme, queue.hostname, queue.port) == ("redis", "redis", 6379)
        assert str(settings.home) == "/data"
        assert settings.get("DOSSIER_SECRET_KEY") == SECRET_ENV["DOSSIER_SECRET_KEY"]
        queues.add(queue_name(settings.database_url))
    assert len(queues) == 1, "web and workers would use different queues"
    assert service_env(services["init"])["DOSSIER_ADMIN_PASSWORD"] == SECRET_ENV["DOSSIER_ADMIN_PASSWORD"]
    assert "DOSSIER_ADMIN_PASSWORD" not in service_env(services["web"]), "only init needs the admin password"


@pytest.mark.parametrize("secret", SECRETS)
def test_compose_refuses_to_start_without_each_secret(secret: str) -> None:
    """Without a secret in .env, interpolation fails with a message naming it, as `docker compose up` does."""
    env = {k: v for k, v in SECRET_ENV.items() if k != secret}
    with pytest.raises(MissingVariable) as error:
        compose(env)
    assert error.value.name == secret
    assert ".env" in str(error.value)


def test_no_secret_is_written_into_the_files() -> None:
    """The secrets come from .env only: each is a required interpolation in compose, and absent from the image."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    seen = set()
    for name, service in raw["services"].items():
        for key, value in service_env(service).items():
            if key in SECRETS:
                assert re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", value), (
                    f"{name}: {key} must be ${{{key}:?...}}"
                )
                seen.add(key)
    assert seen == set(SECRETS)
    password = make_url(service_env(raw["services"]["web"])["DOSSIER_DATABASE_URL"]).password
    assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", str(password))
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    for secret in SECRETS:
        assert secret not in dockerfile, f"{secret} in the Dockerfile would be baked into the image"


def test_opensearch_is_a_2x_single_node_without_security(services: dict[str, Any]) -> None:
    """OpenSearch 2.x (the backend's target), single node, security plugin and demo config off, small heap."""
    opensearch = services["opensearch"]
    name, tag = opensearch["image"].rsplit(":", 1)
    assert name == "opensearchproject/opensearch"
    assert re.fullmatch(r"2\.\d+\.\d+", tag), tag
    env = service_env(opensearch)
    assert env["discovery.type"] == "single-node"
    assert env["DISABLE_SECURITY_PLUGIN"] == "true"
    assert env["DISABLE_INSTALL_DEMO_CONFIG"] == "true"
    assert re.search(r"-Xmx\d+[mg]", env["OPENSEARCH_JAVA_OPTS"])
    assert "_cluster/health" in " ".join(opensearch["healthcheck"]["test"])
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_images_are_pinned(services: dict[str, Any]) -> None:
    """Every image names a tag other than latest; the app image's tag is the project's version."""
    for name, service in services.items():
        image = service["image"]
        assert ":" in image.rsplit("/", 1)[-1], f"{name}: {image} has no tag"
        assert not image.endswith(":latest"), f"{name}: {image}"
    version = _pyproject()["project"]["version"]
    for name in APP_SERVICES:
        assert services[name]["image"] == f"dossier:{version}", name
        assert services[name]["build"]["context"] == "."
        assert (ROOT / services[name]["build"].get("dockerfile", "Dockerfile")).is_file()


def test_commands_are_real_entry_points(services: dict[str, Any]) -> None:
    """init and worker run real `dossier` subcommands; web runs gunicorn on an importable WSGI module, never `dossier serve`."""
    from dossier.cli import cli

    assert _pyproject()["project"]["scripts"]["dossier"] == "dossier.cli:main"
    for name in ("init", "worker"):
        program, subcommand = services[name]["command"]
        assert program == "dossier"
        assert subcommand in cli.commands, f"{name}: `dossier {subcommand}` does not exist"
    program, target = services["web"]["command"]
    assert program == "gunicorn", (
        "the web container runs the web server only (dossier serve starts workers too)"
    )
    module, attribute = target.split(":")
    assert (module, attribute) == ("webui.wsgi", "app")
    assert importlib.util.find_spec(module) is not None
    assert "gunicorn" in _requirement_names(), "gunicorn must be pinned in requirements.txt"
    for name, service in services.items():
        assert "serve" not in (service.get("command") or []), name


def test_app_healthchecks_call_the_probes(services: dict[str, Any]) -> None:
    """The web and worker healthchecks run webui.health with arguments its parser accepts, in the right mode."""
    for name, worker_mode in (("web", False), ("worker", True)):
        kind, python, flag, module, *args = services[name]["healthcheck"]["test"]
        assert (kind, python, flag, module) == ("CMD", "python", "-m", "webui.health"), name
        assert health.argument_parser().parse_args(args).worker is worker_mode, name


def test_postgres_driver_of_the_url_is_pinned(services: dict[str, Any]) -> None:
    """The driver the database URL names is installed by requirements.txt (the PostgreSQL issue pins it)."""
    url = make_url(service_env(services["web"])["DOSSIER_DATABASE_URL"])
    driver = url.get_driver_name()
    assert driver == "psycopg", f"use psycopg 3 (postgresql+psycopg://), not {driver}"
    if "psycopg" not in _requirement_names():
        pytest.skip("psycopg is not pinned in requirements.txt yet (the PostgreSQL issue adds it)")


def test_docker_compose_itself_accepts_the_file(tmp_path: Path) -> None:
    """Where the Compose plugin is installed (not on CI machines), `docker compose config` validates the file too."""
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("the docker compose plugin is not installed here")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}, **SECRET_ENV}
    result = subprocess.run(
        [docker, "compose", "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), "config", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr


# -- Dockerfile and .dockerignore ------------------------------------------------------------------


def test_dockerfile_base_image(instructions) -> None:
    """Debian bookworm's slim Python of the version the project requires, by an explicit tag."""
    (base,) = _all(instructions, "FROM")
    assert base == "python:3.11-slim-bookworm"
    assert _pyproject()["project"]["requires-python"] == ">=3.11"


def test_dockerfile_installs_the_run_time_debian_packages(instructions) -> None:
    """OCR with Chinese, a CJK font, libmagic, and every run-time package of the Makefile but the venv and Redis."""
    installs = apt_installs(instructions)
    always = {p for packages, conditional in installs if not conditional for p in packages}
    everything = {p for packages, _ in installs for p in packages}
    assert {"tesseract-ocr", "tesseract-ocr-chi-sim", "libmagic1"} <= always
    assert always & {"fonts-wqy-microhei", "fonts-noto-cjk"}, "no CJK font"
    assert {"libgl1", "libglib2.0-0"} <= always, "opencv-python (RapidOCR) needs libGL and GLib"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    run_debs = set(re.search(r"^RUN_DEBS\s*:=(.*)$", makefile, re.M).group(1).split())
    missing = run_debs - {"python3-venv", "redis-server"} - everything
    assert not missing, f"Makefile RUN_DEBS the image lacks: {sorted(missing)}"
    assert any(p.startswith("libreoffice-") for p in everything - always), "LibreOffice is the optional part"


def test_dockerfile_installs_the_pinned_requirements_then_the_project(instructions) -> None:
    """requirements.txt is copied and installed before the project, which is installed without dependencies."""
    runs = _all(instructions, "RUN")
    requirements = next(i for i, run in enumerate(runs) if "pip install -r requirements.txt" in run)
    project = next(i for i, run in enumerate(runs) if "pip install --no-deps ." in run)
    assert requirements < project
    assert any(args.split()[0] == "requirements.txt" for args in _all(instructions, "COPY"))


def test_the_image_carries_no_test_or_lint_tool() -> None:
    """requirements.txt (what the image installs) holds the app's needs only; the tools are in requirements-dev.txt."""
    tools = {"pytest", "pytest-timeout", "mypy", "ruff", "selenium", "import-linter"}
    assert not tools & set(_requirement_names())
    dev = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    assert dev.splitlines()[1] == "-r requirements.txt"
    for tool in tools:
        assert re.search(rf"^{re.escape(tool)}==", dev, re.M | re.I), tool


def test_dockerfile_copies_every_package_from_the_build_context(instructions) -> None:
    """Each COPY source exists and is not dockerignored; every package pyproject installs is copied."""
    sources = set()
    for args in _all(instructions, "COPY"):
        words = [w for w in args.split() if not w.startswith("--")]
        for source in words[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert not dockerignored(source), f"COPY {source}: excluded by .dockerignore"
            sources.add(source.rstrip("/"))
    include = _pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {
        d.name
        for d in ROOT.iterdir()
        if (d / "__init__.py").is_file() and any(fnmatch.fnmatchcase(d.name, p) for p in include)
    }
    assert packages >= {"dossier", "ingest", "index", "records", "webui", "workers"}
    assert packages <= sources, f"packages the image lacks: {sorted(packages - sources)}"
    assert "pyproject.toml" in sources


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    """The build context never carries .env (secrets), the virtualenv, the data home, git or caches."""
    for path in (
        ".env",
        ".venv",
        "data",
        ".git",
        "dossier/__pycache__",
        ".pytest_cache",
        "tests/tmp",
        "x.egg-info",
    ):
        assert dockerignored(path), path
    assert not dockerignored("dossier/cli.py")


def test_dockerfile_runs_as_a_user_and_sets_the_environment(instructions) -> None:
    """A non-root USER; offline and one-thread-per-process settings; the data home at /data."""
    users = _all(instructions, "USER")
    assert users and users[-1].split(":")[0] not in ("root", "0")
    env = dockerfile_env(instructions)
    assert env["OMP_THREAD_LIMIT"] == "1"
    assert env["SCARF_NO_ANALYTICS"] == "true"
    assert env["DO_NOT_TRACK"] == "true"
    assert env["DOSSIER_HOME"] == "/data"


def test_dockerfile_serves_gunicorn_with_a_healthcheck(instructions, services: dict[str, Any]) -> None:
    """CMD is gunicorn on webui.wsgi:app; it binds the port that is exposed, published and probed; HEALTHCHECK probes it."""
    (cmd,) = _all(instructions, "CMD")
    assert exec_form(cmd) == services["web"]["command"] == ["gunicorn", "webui.wsgi:app"]
    (healthcheck,) = _all(instructions, "HEALTHCHECK")
    options, _, probe = healthcheck.partition(" CMD ")
    assert "--timeout=" in options and "--interval=" in options
    assert exec_form(probe) == ["python", "-m", "webui.health"]
    gunicorn_args = shlex.split(dockerfile_env(instructions)["GUNICORN_CMD_ARGS"])
    bind = gunicorn_args[gunicorn_args.index("--bind") + 1]
    port = bind.rsplit(":", 1)[1]
    assert bind.startswith("0.0.0.0:")
    assert _all(instructions, "EXPOSE") == [port]
    assert urllib.parse.urlsplit(health.DEFAULT_URL).port == int(port)
    assert services["web"]["ports"][0].rsplit(":", 1)[1] == port


def test_dockerfile_tags_are_never_latest(instructions) -> None:
    """No `latest` (or missing) tag in FROM."""
    for base in _all(instructions, "FROM"):
        image = base.split()[0]
        assert ":" in image and not image.endswith(":latest"), image


# -- gunicorn, for real ------------------------------------------------------------------------------


def _wait_for(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"gunicorn exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers (the test looks at what)
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within {timeout_s}s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.mark.slow
def test_gunicorn_serves_the_app_over_http(tmp_path: Path, redis_url: str, instructions) -> None:
    """GIVEN a data home made by `dossier init`, WHEN gunicorn serves webui.wsgi:app with the image's arguments,
    THEN the login page, a real login (two processes share the session key) and GET /healthz answer over HTTP."""
    bin_dir = Path(sys.executable).parent
    gunicorn = bin_dir / "gunicorn"
    assert gunicorn.is_file(), "gunicorn is not installed: pip install -r requirements.txt"
    image_env = dockerfile_env(instructions)
    port = free_port()
    args = shlex.split(image_env["GUNICORN_CMD_ARGS"])
    args[args.index("--bind") + 1] = f"127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env.update({k: v for k, v in image_env.items() if k != "GUNICORN_CMD_ARGS"})
    env.update(
        {
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_REDIS_URL": redis_url,
            "DOSSIER_SECRET_KEY": SECRET_ENV["DOSSIER_SECRET_KEY"],
            "DOSSIER_ADMIN_PASSWORD": SECRET_ENV["DOSSIER_ADMIN_PASSWORD"],
            "GUNICORN_CMD_ARGS": shlex.join(args),
        }
    )
    init = subprocess.run(
        [str(bin_dir / "dossier"), "init"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert init.returncode == 0, init.stderr
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(gunicorn), "webui.wsgi:app"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/healthz", process, log)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with opener.open(f"{base}/auth/login", timeout=10) as response:
            assert response.status == 200
            page = response.read().decode("utf-8")
        assert 'name="password"' in page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"username": "admin", "password": SECRET_ENV["DOSSIER_ADMIN_PASSWORD"], "csrf_token": token}
        ).encode()
        with opener.open(f"{base}/auth/login", data=form, timeout=10) as response:
            assert urllib.parse.urlsplit(response.url).path != "/auth/login", "login failed"
        for _ in range(6):  # several requests, so every gunicorn process honours the session
            with opener.open(f"{base}/", timeout=10) as response:
                assert response.status == 200
                assert urllib.parse.urlsplit(response.url).path == "/", "the session was not honoured"
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            assert response.status == 200
            body = json.load(response)
        assert body["status"] == "ok", body
        assert body["database"]["ok"] and body["queue"]["ok"] and body["index"]["ok"]
        probe = subprocess.run(
            [sys.executable, "-m", "webui.health", "--url", f"{base}/healthz"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert probe.returncode == 0, probe.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, log.read_text(errors="replace")[-3000:]
