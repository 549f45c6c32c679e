"""Deployment files. Every Kubernetes manifest validates against the Kubernetes OpenAPI schema
(kubernetes-validate, strict: unknown fields fail) and keeps the promises deploy/README.md makes:
read-only RBAC, non-root with a read-only root filesystem, the Prometheus token from a Secret,
probes on Streamlit's health endpoint. The Dockerfile cannot be built here (no image pulls), so it
is parsed: base image, pinned install, numeric non-root user, port, health check, command, and
every path it copies exists and is not excluded by .dockerignore. Its CMD and HEALTHCHECK are
then run for real against the repository."""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, need
from .streamlit_server import free_port, wait_healthy

K8S = ROOT / "deploy" / "kubernetes"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
KUBE_VERSION = "1.33.0"     # validate against this Kubernetes release and the newest the package ships
HEALTH = "/_stcore/health"
PORT = 8501
UID = 10001
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate", "approve",
               "sign", "*"}


# -- loading ------------------------------------------------------------------------------------
def manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def load(path: Path) -> dict:
    docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert len(docs) == 1, f"{path.name}: expected one object per file, found {len(docs)}"
    return docs[0]


@pytest.fixture(scope="module")
def objects() -> dict[str, dict]:
    """kind -> object for the applied manifests (not the secret example); each kind appears once."""
    found: dict[str, dict] = {}
    for path in manifest_files():
        if path.name == "secret-example.yaml":
            continue
        obj = load(path)
        assert obj["kind"] not in found, f"{path.name}: a second {obj['kind']}"
        found[obj["kind"]] = obj
    assert set(found) == {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment", "Service"}
    return found


@pytest.fixture(scope="module")
def secret_example() -> dict:
    return load(K8S / "secret-example.yaml")


@pytest.fixture(scope="module")
def kv():
    try:
        import kubernetes_validate
    except ImportError:
        need(False, "the PyPI package kubernetes-validate is not installed (pip install -r requirements-dev.txt)")
    return kubernetes_validate


def container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def resolve_port(port, ctr: dict) -> int:
    """A probe or Service port given as a number or as the name of a container port."""
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in ctr.get("ports", []) if "name" in p}
    assert port in named, f"port {port!r} is not a named container port"
    return named[port]


# -- schema validation --------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["pinned", "latest"])
@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_manifest_validates_against_the_kubernetes_schema(kv, path, version):
    wanted = KUBE_VERSION if version == "pinned" else kv.latest_version()
    # strict: the schema's additionalProperties=false, so a misspelt or misplaced field fails
    used = kv.validate(load(path), wanted, strict=True)
    assert used == ".".join(wanted.split(".")[:2]), f"validated against {used}, not {wanted}"


def _set(path: list, value):
    def change(obj):
        *parents, last = path
        for key in parents:
            obj = obj[key]
        obj[last] = value
    return change


def _pod_level_read_only(obj):
    obj["spec"]["template"]["spec"]["securityContext"]["readOnlyRootFilesystem"] = True   # exists only per container


def _typo(obj):
    ctx = obj["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    ctx["readOnlyRootFileSystem"] = ctx.pop("readOnlyRootFilesystem")


def _no_container_name(obj):
    del obj["spec"]["template"]["spec"]["containers"][0]["name"]


BROKEN = {   # case: (file, the mistake, where the validator must point)
    "replicas-not-a-number": ("deployment.yaml", _set(["spec", "replicas"], "one"), ["spec", "replicas"]),
    "misspelt-field": ("deployment.yaml", _typo, ["spec", "template", "spec", "containers", 0, "securityContext"]),
    "field-on-the-wrong-level": ("deployment.yaml", _pod_level_read_only, ["spec", "template", "spec", "securityContext"]),
    "required-field-missing": ("deployment.yaml", _no_container_name, ["spec", "template", "spec", "containers", 0]),
    "verbs-not-a-list": ("clusterrole.yaml", _set(["rules", 0, "verbs"], "get"), ["rules", 0, "verbs"]),
    "service-port-not-a-number": ("service.yaml", _set(["spec", "ports", 0, "port"], "eighty"), ["spec", "ports", 0, "port"]),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_manifest_fails_validation(kv, case):
    """The validator bites: each deliberate mistake is rejected, at the place it was made."""
    name, breaks, where = BROKEN[case]
    obj = copy.deepcopy(load(K8S / name))
    breaks(obj)
    with pytest.raises(kv.ValidationError) as caught:
        kv.validate(obj, KUBE_VERSION, strict=True)
    assert list(caught.value.path) == where, caught.value.message


def test_strict_mode_is_what_catches_a_misspelt_field(kv):
    obj = copy.deepcopy(load(K8S / "deployment.yaml"))
    _typo(obj)
    kv.validate(obj, KUBE_VERSION, strict=False)        # the lenient schema lets the typo through ...
    with pytest.raises(kv.ValidationError, match="readOnlyRootFileSystem"):
        kv.validate(obj, KUBE_VERSION, strict=True)     # ... the strict one names it


# -- what the manifests promise -----------------------------------------------------------------
def test_kustomization_lists_every_manifest_but_the_secret_example():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    resources = kustomization["resources"]
    assert len(resources) == len(set(resources))
    expected = {p.name for p in manifest_files()} - {"secret-example.yaml"}
    assert set(resources) == expected
    assert "secret-example.yaml" not in resources


def test_cluster_role_only_reads_nodes_pods_and_pdbs(objects):
    role = objects["ClusterRole"]
    assert role["metadata"]["name"] == "fragviz-read-only"
    assert "aggregationRule" not in role
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["get", "list", "watch"]},
                             {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["get", "list", "watch"]}]
    for rule in role["rules"]:
        assert not WRITE_VERBS & set(rule["verbs"])
        assert not {"nonResourceURLs", "resourceNames"} & set(rule)
        for key in ("apiGroups", "resources", "verbs"):
            assert not any("*" in value for value in rule[key]), f"wildcard in {key}"


def test_no_other_role_or_binding_is_granted(objects):
    kinds = {load(p)["kind"] for p in manifest_files()}
    assert not {"Role", "RoleBinding"} & kinds
    assert sum(obj["kind"] == "ClusterRole" for obj in objects.values()) == 1


def test_binding_gives_the_role_to_the_service_account(objects):
    binding, account = objects["ClusterRoleBinding"], objects["ServiceAccount"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": objects["ClusterRole"]["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["metadata"]["name"],
                                    "namespace": account["metadata"]["namespace"]}]


def test_namespaced_objects_live_in_the_fragviz_namespace(objects, secret_example):
    namespace = objects["Namespace"]["metadata"]["name"]
    assert namespace == "fragviz"
    for obj in [objects["ServiceAccount"], objects["Deployment"], objects["Service"], secret_example]:
        assert obj["metadata"]["namespace"] == namespace, obj["kind"]
    for obj in [objects["Namespace"], objects["ClusterRole"], objects["ClusterRoleBinding"]]:
        assert "namespace" not in obj["metadata"], obj["kind"]


def test_deployment_runs_as_the_read_only_service_account(objects):
    deployment = objects["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] == 1
    assert pod["serviceAccountName"] == objects["ServiceAccount"]["metadata"]["name"]
    assert pod["automountServiceAccountToken"] is True
    assert container(deployment)["image"] == "fragviz:latest"


def test_deployment_is_locked_down(objects):
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    pod_ctx, ctx = pod.get("securityContext", {}), container(objects["Deployment"])["securityContext"]

    def setting(key):
        return ctx.get(key, pod_ctx.get(key))      # the container's value wins over the pod's

    assert setting("runAsNonRoot") is True
    assert setting("runAsUser") == UID
    assert setting("seccompProfile") == {"type": "RuntimeDefault"}
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in ctx and "hostNetwork" not in pod and "hostPID" not in pod


def test_tmp_is_the_only_writable_path(objects):
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    mounts = container(objects["Deployment"])["volumeMounts"]
    assert [m["mountPath"] for m in mounts] == ["/tmp"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts[0]["name"]]
    assert not mounts[0].get("readOnly", False)


def test_deployment_configures_the_sources(objects, secret_example):
    env = {e["name"]: e for e in container(objects["Deployment"])["env"]}
    assert env["FRAGVIZ_SOURCE"]["value"] == "kubernetes"
    assert env["FRAGVIZ_KUBE_IN_CLUSTER"]["value"] == "true"
    assert re.match(r"https?://[^/\s]+", env["FRAGVIZ_PROMETHEUS_URL"]["value"])
    token = env["FRAGVIZ_PROMETHEUS_TOKEN"]
    assert "value" not in token, "the token must come from a Secret, not the manifest"
    ref = token["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "fragviz-prometheus", "key": "token", "optional": True}
    assert secret_example["metadata"]["name"] == ref["name"]
    assert ref["key"] in secret_example["stringData"]
    assert "REPLACE" in secret_example["stringData"][ref["key"]], "the example must hold a placeholder, not a token"


def test_probes_ask_streamlits_health_endpoint(objects):
    ctr = container(objects["Deployment"])
    assert [p["containerPort"] for p in ctr["ports"]] == [PORT]
    for probe in ("readinessProbe", "livenessProbe"):
        get = ctr[probe]["httpGet"]
        assert get["path"] == HEALTH, probe
        assert resolve_port(get["port"], ctr) == PORT, probe


def test_resources_are_requested_and_memory_is_limited(objects):
    resources = container(objects["Deployment"])["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    gib = {"Mi": 1 / 1024, "Gi": 1}

    def size(quantity: str) -> float:
        return float(quantity[:-2]) * gib[quantity[-2:]]

    assert size(resources["limits"]["memory"]) >= size(resources["requests"]["memory"])


def test_service_targets_the_container_port(objects):
    service, deployment = objects["Service"], objects["Deployment"]
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    [port] = service["spec"]["ports"]
    assert port["port"] == 80
    assert resolve_port(port["targetPort"], container(deployment)) == PORT


# -- the Dockerfile -----------------------------------------------------------------------------
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; comments dropped, continuation lines joined."""
    instructions, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            instructions.append((word.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continuation line"
    return instructions


def args(instruction: str) -> list[str]:
    """Exec (JSON) or shell form split into words."""
    return json.loads(instruction) if instruction.startswith("[") else shlex.split(instruction)


def only(name: str) -> str:
    found = [rest for word, rest in dockerfile() if word == name]
    assert found, f"no {name} in the Dockerfile"
    return found[-1]


def env() -> dict[str, str]:
    values = {}
    for word, rest in dockerfile():
        if word == "ENV":
            values |= dict(pair.split("=", 1) for pair in shlex.split(rest))
    return values


def healthcheck_command() -> list[str]:
    _options, _, command = only("HEALTHCHECK").partition("CMD ")
    assert command, "HEALTHCHECK without CMD"
    return args(command.strip())


def dockerignored(relative: str) -> bool:
    """Whether .dockerignore keeps a path (or one of its folders) out of the build context."""
    ignored = False
    parts = relative.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for raw in DOCKERIGNORE.read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        if any(re.fullmatch(regex.replace(r"\?", "[^/]"), c) for c in candidates):
            ignored = not negate
    return ignored


def test_base_image_is_python_311_slim():
    assert [rest for word, rest in dockerfile() if word == "FROM"] == ["python:3.11-slim"]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    from packaging.specifiers import SpecifierSet
    assert "3.11" in SpecifierSet(requires)


def test_installs_the_pinned_requirements_before_the_code():
    steps = dockerfile()
    runs = [i for i, (word, rest) in enumerate(steps) if word == "RUN" and "pip install --no-cache-dir -r requirements.txt" in rest]
    assert runs, "the image must install requirements.txt with pip --no-cache-dir"
    copied_before = [args(rest) for word, rest in steps[:runs[0]] if word == "COPY"]
    assert any("requirements.txt" in words[:-1] for words in copied_before)
    assert not any(src.rstrip("/") in ("fragviz", ".") for words in copied_before for src in words[:-1]), \
        "copy the code after the dependency layer, so code changes reuse it"
    installs_code = any(word == "RUN" and re.search(r"pip install .*--no-deps \.(\s|$)", rest) for word, rest in steps)
    assert installs_code or "PYTHONPATH" in env()


def test_runs_as_a_numeric_non_root_user():
    user = only("USER")
    assert re.fullmatch(r"\d+(:\d+)?", user), f"USER {user!r} must be numeric so runAsNonRoot can check it"
    assert int(user.split(":")[0]) == UID
    assert env()["HOME"] == "/tmp", "the only writable path in the pod is /tmp"


def test_matches_the_deployment(objects):
    ctr = container(objects["Deployment"])
    assert only("EXPOSE").split() == [str(PORT)]
    assert ctr["ports"][0]["containerPort"] == PORT
    assert ctr["securityContext"]["runAsUser"] == int(only("USER").split(":")[0])


def test_healthcheck_asks_streamlit_with_python():
    command = healthcheck_command()
    assert command[0] in ("python", "python3")
    assert f"http://127.0.0.1:{PORT}{HEALTH}" in " ".join(command)
    assert not {"curl", "wget"} & set(command)


def test_cmd_runs_streamlit_headless_on_all_interfaces():
    assert args(only("CMD")) == ["streamlit", "run", "app.py", "--server.address=0.0.0.0", f"--server.port={PORT}",
                                 "--server.headless=true", "--browser.gatherUsageStats=false"]


def test_every_copied_path_exists_and_reaches_the_build_context():
    copied = []
    for word, rest in dockerfile():
        if word not in ("COPY", "ADD"):
            continue
        words = [w for w in args(rest) if not w.startswith("--")]
        assert not any(w.startswith("--from") for w in args(rest)), "single-stage build expected"
        for source in words[:-1]:
            path = ROOT / source
            assert path.exists(), f"COPY {source}: no such path in the repository"
            files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
            for file in files:
                relative = file.relative_to(ROOT).as_posix()
                assert not dockerignored(relative), f"COPY {source}: .dockerignore excludes {relative}"
            copied.append(source.rstrip("/"))
    for needed in ("requirements.txt", "app.py", "pages", "fragviz", "data", ".streamlit/config.toml", "pyproject.toml",
                   "README.md"):
        assert needed in copied, f"the image lacks {needed}"


def test_dockerignore_keeps_secrets_and_history_out():
    for path in (".streamlit/secrets.toml", ".git/config", "fragviz/__pycache__/x.pyc", "tests/test_deploy.py"):
        assert dockerignored(path), path
    for path in ("app.py", "fragviz/app/ui.py", ".streamlit/config.toml", "README.md", "requirements.txt"):
        assert not dockerignored(path), path


def test_cmd_and_healthcheck_work_against_the_app(tmp_path):
    """The image's command, with the port swapped, starts the dashboard; its health check passes
    against it and fails once nothing listens."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", *args(only("CMD"))[1:]]
    command = [f"--server.port={port}" if a.startswith("--server.port=") else
               "--server.address=127.0.0.1" if a.startswith("--server.address=") else a for a in command]
    environment = {**os.environ, **env(), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    probe = [sys.executable if word in ("python", "python3") else word.replace(str(PORT), str(port))
             for word in healthcheck_command()]
    proc = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        assert subprocess.run(probe, check=False, capture_output=True, timeout=30).returncode == 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert subprocess.run(probe, check=False, capture_output=True, timeout=30).returncode != 0
