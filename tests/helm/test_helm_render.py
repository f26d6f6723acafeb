"""The chart lints, renders valid Kubernetes objects and wires them as promised."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from helm_chart import (
    CHART,
    FULLNAME,
    RELEASE,
    HelmRunner,
    Manifest,
    Render,
    by_kind,
    containers,
    env_of,
    find,
    named,
    pod_spec,
    runs_periodic_schedule,
    scenario_args,
    workloads,
)

VALIDATE_VERSIONS = ("1.25.0", "1.33.0")
STANDARD_LABELS = (
    "helm.sh/chart",
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/component",
)
# Environment variables that hold secrets: never a literal value.
SECRET_ENV = {
    "DATABASE_URL",
    "REDIS_URL",
    "DOTLOOP_CLIENT_ID",
    "DOTLOOP_CLIENT_SECRET",
    "DOTLOOP_REFRESH_TOKEN",
    "REPORTING_READER_PASSWORD",
    "SUPERSET_PASSWORD",
    "DOTLOOP_TOKEN_ENCRYPTION_KEY",
    "DOTLOOP_WEBHOOK_SECRET",
}
# A secret-looking name assigned a quoted literal, in Python or shell syntax.
SECRET_LITERAL = re.compile(
    r"""(?im)^\s*\w*(password|secret|token|_key)\w*\s*[:=]\s*["'][^"'\s]{4,}["']"""
)


def _values(scenario: str) -> dict[str, Any]:
    if scenario == "default":
        return {}
    path = CHART.parent / "ci" / f"{scenario}.yaml"
    return dict(yaml.safe_load(path.read_text()))


def _chart_version() -> tuple[str, str]:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    return str(chart["version"]), str(chart["appVersion"])


def test_lint_is_clean(helm: HelmRunner, chart_dir: Path, scenario: str) -> None:
    result = helm("lint", "--strict", str(chart_dir), *scenario_args(scenario))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("kube_version", VALIDATE_VERSIONS)
def test_every_manifest_is_valid_kubernetes(
    render: Render, scenario: str, kube_version: str
) -> None:
    kubernetes_validate = _kubernetes_validate()
    manifests = render(scenario)
    assert manifests

    for manifest in manifests:
        try:
            kubernetes_validate.validate(manifest, kube_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            name = manifest["metadata"]["name"]
            pytest.fail(f"{manifest['kind']} {name}: {exc.message}")


def test_the_validator_rejects_an_unknown_field() -> None:
    kubernetes_validate = _kubernetes_validate()
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i", "bogus": 1}]},
    }

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, VALIDATE_VERSIONS[0], strict=True)


def _kubernetes_validate() -> Any:
    try:
        import kubernetes_validate  # type: ignore[import-untyped]
    except ImportError:
        pytest.fail(
            "kubernetes-validate is not installed: install the dev extra "
            "(scripts/bootstrap.sh)",
            pytrace=False,
        )
    return kubernetes_validate


def test_every_resource_carries_the_standard_labels(
    render: Render, scenario: str
) -> None:
    version, app_version = _chart_version()

    for manifest in render(scenario):
        labels = manifest["metadata"]["labels"]
        missing = [key for key in STANDARD_LABELS if key not in labels]
        assert not missing, f"{manifest['metadata']['name']} lacks {missing}"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/version"] == app_version
        assert labels["helm.sh/chart"] == f"dotloop-reporter-{version}"


def test_selectors_match_their_pod_labels(render: Render, scenario: str) -> None:
    manifests = render(scenario)
    pods = {
        m["metadata"]["name"]: m["spec"]["template"]["metadata"]["labels"]
        for m in by_kind(manifests, "Deployment")
    }

    for deployment in by_kind(manifests, "Deployment"):
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pods[deployment["metadata"]["name"]].items()
    for service in by_kind(manifests, "Service"):
        selector = service["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in pods.values())
    for budget in by_kind(manifests, "PodDisruptionBudget"):
        selector = budget["spec"]["selector"]["matchLabels"]
        assert any(selector.items() <= labels.items() for labels in pods.values())


def test_views_job_runs_before_and_import_job_after(
    render: Render, scenario: str
) -> None:
    manifests = render(scenario)
    views = named(manifests, "Job", "views-apply")["metadata"]["annotations"]
    imports = named(manifests, "Job", "bundle-import")["metadata"]["annotations"]

    assert set(views["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert set(imports["helm.sh/hook"].split(",")) == {"post-install", "post-upgrade"}
    assert int(views["helm.sh/hook-weight"]) < int(imports["helm.sh/hook-weight"])
    for hook in (views, imports):
        policies = hook["helm.sh/hook-delete-policy"].split(",")
        assert "before-hook-creation" in policies


@pytest.mark.parametrize(
    ("suffix", "command"),
    [("views-apply", ["views", "apply"]), ("bundle-import", ["bundle", "import"])],
)
def test_hook_jobs_run_their_commands(
    render: Render, suffix: str, command: list[str]
) -> None:
    job = named(render(), "Job", suffix)
    args = pod_spec(job)["containers"][0]["args"]

    assert args[2:4] == command
    assert pod_spec(job)["restartPolicy"] == "Never"


def test_import_job_validates_the_bundle_it_imports(render: Render) -> None:
    job = named(render(), "Job", "bundle-import")
    (build,) = pod_spec(job)["initContainers"]
    (send,) = pod_spec(job)["containers"]

    assert build["args"][2:4] == ["bundle", "build"]
    output = build["args"][build["args"].index("--output") + 1]
    assert send["args"][send["args"].index("--bundle") + 1] == output


def test_exactly_one_deployment_runs_the_periodic_schedule(
    render: Render, scenario: str
) -> None:
    deployments = by_kind(render(scenario), "Deployment")
    periodic = [d for d in deployments if runs_periodic_schedule(d)]

    assert [d["metadata"]["name"] for d in periodic] == [f"{FULLNAME}-scheduler"]
    (scheduler,) = periodic
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"]["type"] == "Recreate"


def test_scaled_workers_skip_the_schedule(render: Render, scenario: str) -> None:
    replicas = _values(scenario).get("workers", {}).get("replicas", 1)
    workers = find(render(scenario), "Deployment", "worker")

    assert [w["spec"]["replicas"] for w in workers] == [replicas]
    args = pod_spec(workers[0])["containers"][0]["args"]
    assert "--no-periodic" in args


def test_no_workers_means_no_worker_deployment(render: Render) -> None:
    manifests = render(extra=["--set", "workers.replicas=0"])

    assert not find(manifests, "Deployment", "worker")
    assert not find(manifests, "PodDisruptionBudget", "worker")
    assert len([d for d in by_kind(manifests, "Deployment")]) == 1


def test_the_chart_creates_no_secret(render: Render, scenario: str) -> None:
    assert not by_kind(render(scenario), "Secret")


def test_no_configmap_holds_a_secret_value(render: Render, scenario: str) -> None:
    configmaps = by_kind(render(scenario), "ConfigMap")
    assert configmaps

    for configmap in configmaps:
        for key, text in configmap.get("data", {}).items():
            found = SECRET_LITERAL.search(text)
            assert found is None, f"{key} assigns a literal: {found and found[0]}"


def test_secret_variables_come_from_secret_refs(render: Render, scenario: str) -> None:
    for workload in workloads(render(scenario)):
        for container in containers(workload):
            for name, entry in env_of(container).items():
                if name not in SECRET_ENV:
                    continue
                assert "value" not in entry, f"{name} has a literal value"
                ref = entry["valueFrom"]["secretKeyRef"]
                assert ref["name"] and ref["key"]


@pytest.mark.parametrize(
    ("variable", "secret", "key"),
    [
        ("DATABASE_URL", "reporting-postgres", "uri"),
        ("REDIS_URL", "reporting-redis", "uri"),
        ("DOTLOOP_CLIENT_SECRET", "dotloop-oauth", "dotloop-client-secret"),
        ("DOTLOOP_TOKEN_ENCRYPTION_KEY", "dotloop-token-key", "token-encryption-key"),
    ],
)
def test_each_group_reads_its_own_secret(
    render: Render, variable: str, secret: str, key: str
) -> None:
    scheduler = named(render("several-workers-values"), "Deployment", "scheduler")
    entry = env_of(pod_spec(scheduler)["containers"][0])[variable]

    assert entry["valueFrom"]["secretKeyRef"]["name"] == secret
    assert entry["valueFrom"]["secretKeyRef"]["key"] == key


@pytest.mark.parametrize(
    ("kind", "suffix", "granted", "withheld"),
    [
        ("Deployment", "scheduler", {"DOTLOOP_REFRESH_TOKEN"}, {"SUPERSET_PASSWORD"}),
        ("Job", "views-apply", {"REPORTING_READER_PASSWORD"}, {"REDIS_URL"}),
        ("Job", "bundle-import", {"SUPERSET_PASSWORD"}, {"DOTLOOP_CLIENT_SECRET"}),
        ("Pod", "test-connections", {"DATABASE_URL"}, {"SUPERSET_PASSWORD"}),
    ],
)
def test_each_workload_gets_only_the_secrets_it_needs(
    render: Render, kind: str, suffix: str, granted: set[str], withheld: set[str]
) -> None:
    workload = named(render(), kind, suffix)
    names = set(env_of(pod_spec(workload)["containers"][0]))

    assert granted <= names
    assert not withheld & names


def test_every_pod_runs_as_non_root_on_a_read_only_root(
    render: Render, scenario: str
) -> None:
    for workload in workloads(render(scenario)):
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] != 0
        assert spec["automountServiceAccountToken"] is False
        scratch = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for container in containers(workload):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts["/tmp"] in scratch
            assert mounts["/var/lib/dotloop-reporter"] in scratch


def test_long_running_containers_have_probes_and_resources(
    render: Render, scenario: str
) -> None:
    for deployment in by_kind(render(scenario), "Deployment"):
        for container in pod_spec(deployment)["containers"]:
            assert "livenessProbe" in container, container["name"]
            assert container["resources"]["requests"]["memory"]
            assert container["resources"]["limits"]["memory"]


def test_webhook_receiver_is_off_by_default(render: Render) -> None:
    manifests = render()

    for kind in ("Deployment", "Service", "Ingress", "NetworkPolicy"):
        assert not find(manifests, kind, "webhooks")


def test_webhook_receiver_has_service_ingress_and_probes(render: Render) -> None:
    manifests = render("webhooks-values")
    deployment = named(manifests, "Deployment", "webhooks")
    service = named(manifests, "Service", "webhooks")
    ingress = named(manifests, "Ingress", "webhooks")
    (container,) = pod_spec(deployment)["containers"]

    assert container["args"][2:4] == ["webhooks", "serve"]
    assert container["readinessProbe"]["httpGet"]["port"] == "http"
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "dotloop-hooks.example.com"
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert ingress["spec"]["tls"][0]["secretName"] == "dotloop-hooks-tls"
    assert find(manifests, "PodDisruptionBudget", "webhooks")


def test_network_policy_denies_ingress_and_limits_egress(
    render: Render, scenario: str
) -> None:
    policy = next(
        p
        for p in by_kind(render(scenario), "NetworkPolicy")
        if p["metadata"]["name"] == FULLNAME
    )
    spec = policy["spec"]

    assert set(spec["policyTypes"]) == {"Ingress", "Egress"}
    assert spec["ingress"] == []
    assert spec["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "dotloop-reporter",
        "app.kubernetes.io/instance": RELEASE,
    }
    ports = {p["port"] for rule in spec["egress"] for p in rule.get("ports", [])}
    assert {53, 443, 5432, 6379} <= ports


def test_all_in_one_points_the_reporter_at_the_bundled_superset(
    render: Render,
) -> None:
    manifests = render("all-in-one-values")
    job = named(manifests, "Job", "bundle-import")
    env = env_of(pod_spec(job)["containers"][0])

    assert env["SUPERSET_URL"]["value"] == f"http://{RELEASE}-superset:8088"


def test_all_in_one_mounts_the_configmap_it_renders(render: Render) -> None:
    values = _values("all-in-one-values")["superset"]
    (volume,) = values["extraVolumes"]
    (mount,) = values["extraVolumeMounts"]
    configmaps = by_kind(render("all-in-one-values"), "ConfigMap")

    names = [c["metadata"]["name"] for c in configmaps]
    assert names == [volume["configMap"]["name"]]
    assert mount["name"] == volume["name"]
    path = values["extraEnv"]["SUPERSET_CONFIG_PATH"]
    assert path == f"{mount['mountPath']}/superset_config.py"


def test_all_in_one_syncs_from_the_simulator(render: Render) -> None:
    manifests = render("all-in-one-values")
    service = named(manifests, "Service", "simulator")
    worker = named(manifests, "Deployment", "worker")
    env = env_of(pod_spec(worker)["containers"][0])
    port = service["spec"]["ports"][0]["port"]

    base = f"http://{service['metadata']['name']}:{port}"
    assert env["DOTLOOP_API_URL"]["value"] == f"{base}/public/v2"
    assert env["DOTLOOP_AUTH_URL"]["value"] == f"{base}/oauth"


def test_helm_test_pod_checks_the_connections(render: Render) -> None:
    pod = named(render(), "Pod", "test-connections")
    (container,) = pod["spec"]["containers"]
    script = (CHART / "files" / "check_connections.py").read_text()

    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert container["command"] == ["python", "-c"]
    assert container["args"] == [script]
    assert {"DATABASE_URL", "REDIS_URL", "SUPERSET_URL"} <= set(env_of(container))


def test_superset_configmap_carries_the_config_file(render: Render) -> None:
    configmap = named(render(), "ConfigMap", "superset-config")
    source = (CHART / "files" / "superset_config.py").read_text()

    assert configmap["data"]["superset_config.py"] == source


def test_image_defaults_to_the_app_version(render: Render) -> None:
    _, app_version = _chart_version()
    scheduler = named(render(), "Deployment", "scheduler")

    image = pod_spec(scheduler)["containers"][0]["image"]
    assert image == f"dotloop-reporter:{app_version}"


def _manifest_names(manifests: list[Manifest]) -> list[str]:
    return [f"{m['kind']}/{m['metadata']['name']}" for m in manifests]


def test_names_are_unique_per_kind(render: Render, scenario: str) -> None:
    names = _manifest_names(render(scenario))

    assert len(names) == len(set(names))
