"""The deployment files agree with the code: env vars, commands, versions, wiring.

No Docker engine or Kubernetes API is needed: the files are parsed and
cross-checked against settings.py, the management commands and each other.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SETTINGS = ROOT / "maillage" / "settings.py"
ENV_EXAMPLE = DEPLOY / "maillage.env.example"
# Listed in the env example but read by something other than settings.py.
NOT_SETTINGS = {
    "POSTGRES_PASSWORD": "docker-compose postgres service",
    "ELASTIC_PASSWORD": "docker-compose elasticsearch service",
    "WEB_CONCURRENCY": "gunicorn and uvicorn --workers",
    "WS_CONCURRENCY": "docker-compose ws service (uvicorn --workers)",
    "FORWARDED_ALLOW_IPS": "gunicorn and uvicorn --forwarded-allow-ips",
}
# Websockets: the ASGI application under uvicorn, wherever the deploy files run it.
WS_COMMAND = [
    "uvicorn", "maillage.asgi:application", "--host", "0.0.0.0", "--port", "8000",  # noqa: S104 - in a container
    "--proxy-headers", "--lifespan", "off", "--ws", "websockets-sansio",
]  # fmt: skip
_ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def settings_env_vars(source: str) -> set[str]:
    """Names read by os.environ.get/[...]/getenv and the env_* helpers of settings.py."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            func = node.func
            reads_environ = isinstance(func, ast.Attribute) and (
                (func.attr in {"get", "setdefault", "pop"} and ast.unparse(func.value) == "os.environ")
                or (func.attr == "getenv" and ast.unparse(func.value) == "os")
            )
            helper = isinstance(func, ast.Name) and func.id.startswith("env_")
            if reads_environ or helper:
                names.add(first.value)
        elif (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            names.add(node.slice.value)
    return names


def env_example_vars() -> set[str]:
    return set(_ENV_LINE.findall(ENV_EXAMPLE.read_text(encoding="utf-8")))


def _yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _kubernetes() -> dict[tuple[str, str], dict[str, Any]]:
    objects: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in _yaml_documents(path):
            assert {"apiVersion", "kind", "metadata"} <= doc.keys(), f"{path.name}: incomplete object"
            objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects


def _compose() -> dict[str, Any]:
    [compose] = _yaml_documents(DEPLOY / "docker-compose.yml")
    return compose


def _application_exists(reference: str) -> bool:
    """`package.module:attribute` (or `package.module`, attribute `application`) is defined."""
    module, _, attribute = reference.partition(":")
    path = (ROOT / Path(*module.split("."))).with_suffix(".py")
    source = path.read_text(encoding="utf-8") if path.exists() else ""
    return re.search(rf"^{attribute or 'application'}\s*=", source, re.MULTILINE) is not None


def dockerfile_command() -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    cmd = re.search(r"^CMD\s+(\[.*\])\s*$", text, re.MULTILINE)
    assert cmd is not None
    args: list[str] = yaml.safe_load(cmd.group(1))
    return args


def image_port(args: list[str]) -> str:
    """The port the image's command binds (`--bind host:port`)."""
    return args[args.index("--bind") + 1].rsplit(":", 1)[1]


def _manage_commands(command: list[str] | str) -> list[str]:
    text = command if isinstance(command, str) else " ".join(command)
    return re.findall(r"manage\.py\s+([a-z_]+)", text)


# --- Environment variables ----------------------------------------------------------------


def test_the_extractor_sees_every_way_settings_read_the_environment() -> None:
    source = (
        "import os\n"
        "A = os.environ.get('ONE', 'x')\n"
        "B = os.environ['TWO']\n"
        "C = os.getenv('THREE')\n"
        "D = env_bool('FOUR', False)\n"
        "E = env_list('FIVE')\n"
        "F = other('NOT_ENV')\n"
    )
    assert settings_env_vars(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE"}


def test_every_env_var_settings_read_is_in_the_env_example() -> None:
    read = settings_env_vars(SETTINGS.read_text(encoding="utf-8"))
    assert len(read) > 10  # the extractor found the settings' variables at all
    missing = sorted(read - env_example_vars())
    assert not missing, f"add to deploy/maillage.env.example: {missing}"


def test_the_env_example_lists_nothing_stale() -> None:
    read = settings_env_vars(SETTINGS.read_text(encoding="utf-8"))
    stale = sorted(env_example_vars() - read - NOT_SETTINGS.keys())
    assert not stale, f"not read by settings.py (remove, or explain in NOT_SETTINGS): {stale}"


# --- Docker -----------------------------------------------------------------------------------


def test_dockerfile_serves_http_with_gunicorn_as_a_non_root_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    user = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert user
    assert user[-1] not in {"root", "0"}
    assert "collectstatic --noinput" in text
    args = dockerfile_command()
    assert args[:2] == ["gunicorn", "maillage.wsgi"]
    assert _application_exists(args[1])
    assert re.search(rf"^EXPOSE\s+{image_port(args)}\b", text, re.MULTILINE)
    # Synchronous workers (gunicorn's default class): one request each.
    assert "--worker-class" not in args
    assert "-k" not in args
    # Above the proxies' 60 s read timeout: they answer first when a request runs too long.
    assert int(args[args.index("--timeout") + 1]) > 60
    assert "requirements.lock" in text
    assert " ".join(WS_COMMAND) in text  # the websocket command it documents
    assert _application_exists(WS_COMMAND[1])


def test_elasticsearch_image_matches_the_version_the_project_tests_against() -> None:
    from search import node

    text = (DEPLOY / "elasticsearch" / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"^FROM elasticsearch:(\S+)", text, re.MULTILINE)
    assert match is not None
    assert match.group(1) == node.ES_VERSION
    assert f"{node.PLUGIN_NAME}.zip" in text
    assert "search_node build-plugin" in text


def test_compose_wiring_is_consistent() -> None:
    compose = _compose()
    services: dict[str, Any] = compose["services"]
    assert {"web", "ws", "worker", "migrate", "postgres", "redis", "elasticsearch", "proxy"} <= services.keys()
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose.get("volumes", {}), f"{name} uses undeclared volume {source}"
        build = service.get("build")
        if build:
            context = DEPLOY / build["context"]
            assert (context / build.get("dockerfile", "Dockerfile")).exists()
    app = {name: services[name] for name in ("web", "ws", "worker", "migrate")}
    assert len({s["image"] for s in app.values()}) == 1
    assert "command" not in services["web"]  # the image's: gunicorn
    assert services["ws"]["command"] == WS_COMMAND
    assert services["worker"]["command"] == ["python", "manage.py", "search_index", "sync", "--watch"]
    assert services["elasticsearch"]["environment"]["discovery.type"] == "single-node"
    for service in app.values():
        assert service["env_file"] == [".env"]
    # ${NAME:?...} must be settable from the env example that becomes .env.
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert required
    assert required <= env_example_vars()


def test_deploy_files_only_call_management_commands_that_exist() -> None:
    commands = get_commands()
    called: list[str] = []
    for service in _compose()["services"].values():
        called += _manage_commands(service.get("command", ""))
    for obj in _kubernetes().values():
        for container in obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            called += _manage_commands(container.get("command", []))
    called += _manage_commands((DEPLOY / "elasticsearch" / "Dockerfile").read_text(encoding="utf-8"))
    assert "search_index" in called
    unknown = sorted({name for name in called if name not in commands})
    assert not unknown, f"deploy files call unknown management commands: {unknown}"


# --- Kubernetes -------------------------------------------------------------------------------


def test_kubernetes_objects_reference_each_other_correctly() -> None:
    objects = _kubernetes()
    deployments = {name: obj for (kind, name), obj in objects.items() if kind == "Deployment"}
    assert {"maillage-web", "maillage-ws", "maillage-worker"} <= deployments.keys()
    config = objects[("ConfigMap", "maillage-config")]
    secret = objects[("Secret", "maillage-secrets")]
    known = env_example_vars()
    assert set(config["data"]) <= known
    assert set(secret["stringData"]) <= known
    images = set()
    for obj in [*deployments.values(), objects[("Job", "maillage-migrate")]]:
        spec = obj["spec"]
        pod = spec["template"]
        if "selector" in spec:
            labels = pod["metadata"]["labels"]
            assert spec["selector"]["matchLabels"].items() <= labels.items()
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        for container in pod["spec"]["containers"]:
            images.add(container["image"])
            refs = {(k, v["name"]) for ref in container["envFrom"] for k, v in ref.items()}
            assert refs == {("configMapRef", "maillage-config"), ("secretRef", "maillage-secrets")}
    assert len(images) == 1

    for name in ("maillage-web", "maillage-ws"):
        service = objects[("Service", name)]
        pod = deployments[name]["spec"]["template"]
        assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        for other in set(deployments) - {name}:
            other_labels = deployments[other]["spec"]["template"]["metadata"]["labels"]
            assert not service["spec"]["selector"].items() <= other_labels.items(), f"{name} selects {other}"
        port_names = {p["name"] for c in pod["spec"]["containers"] for p in c.get("ports", [])}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    [web_container] = deployments["maillage-web"]["spec"]["template"]["spec"]["containers"]
    assert "command" not in web_container  # the image's: gunicorn
    [ws_container] = deployments["maillage-ws"]["spec"]["template"]["spec"]["containers"]
    assert ws_container["command"] == WS_COMMAND

    ingress = objects[("Ingress", "maillage")]
    routes = {
        path["path"]: path["backend"]["service"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]
    }
    assert {path: backend["name"] for path, backend in routes.items()} == {"/ws/": "maillage-ws", "/": "maillage-web"}
    for backend in routes.values():
        assert backend["port"]["name"] in {p["name"] for p in objects[("Service", backend["name"])]["spec"]["ports"]}
    # Websockets stay open longer than the controller's 60 s default.
    assert int(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 300


def test_kustomization_lists_existing_files_without_the_secret_template() -> None:
    [kustomization] = _yaml_documents(DEPLOY / "kubernetes" / "kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (DEPLOY / "kubernetes" / resource).exists()
    assert "secret.example.yaml" not in kustomization["resources"]


# --- nginx ------------------------------------------------------------------------------------


def _nginx_active() -> str:
    lines = (DEPLOY / "nginx.conf").read_text(encoding="utf-8").splitlines()
    return "\n".join(line.split("#", 1)[0] for line in lines)


def _nginx_location(conf: str, path: str) -> str:
    block = re.search(rf"location {re.escape(path)} \{{(.*?)\n    \}}", conf, re.DOTALL)
    assert block is not None, f"no location {path}"
    return block.group(1)


def _nginx_upstream_servers(conf: str) -> dict[str, list[str]]:
    blocks = re.findall(r"upstream (\w+) \{(.*?)\}", conf, re.DOTALL)
    return {name: re.findall(r"server\s+(\S+);", body) for name, body in blocks}


def test_nginx_sends_websockets_to_uvicorn_and_the_rest_to_gunicorn() -> None:
    conf = _nginx_active()
    assert conf.count("{") == conf.count("}")
    port = image_port(dockerfile_command())
    upstreams = _nginx_upstream_servers(conf)
    # The compose services: `web` runs the image's command (gunicorn), `ws` uvicorn.
    servers = {"/ws/": [f"ws:{port}"], "/static/": [f"web:{port}"], "/": [f"web:{port}"]}
    for path, expected in servers.items():
        upstream = re.search(r"proxy_pass http://(\w+);", _nginx_location(conf, path))
        assert upstream is not None
        assert upstreams[upstream.group(1)] == expected, path
    websocket = _nginx_location(conf, "/ws/")
    assert "proxy_http_version 1.1" in websocket
    assert "proxy_set_header Upgrade $http_upgrade" in websocket
    assert "proxy_set_header Connection $connection_upgrade" in websocket
    # gunicorn's synchronous workers need nginx to buffer what slow clients send and read.
    assert "proxy_buffering off" not in _nginx_location(conf, "/")
    assert "proxy_request_buffering off" not in conf


def test_ci_run_is_strict_and_ends_with_make_test() -> None:
    run = ROOT / ".ci" / "run"
    text = run.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in text
    assert run.stat().st_mode & 0o111
    assert re.search(r"^exec make test$", text, re.MULTILINE)
    for package in ("postgresql", "redis-server", "chromium", "chromium-driver", "gettext"):
        assert re.search(rf"maillage_apt_install .*\b{package}\b", text)
    assert "DATABASE_URL=" in text
    assert "REDIS_URL=" in text
