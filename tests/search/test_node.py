"""The local node: provisioning, reuse across concurrent callers, stale state, the plugin build."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from elasticsearch import Elasticsearch
from pytest_django.fixtures import Settings

from search import analysis, node

pytestmark = pytest.mark.elasticsearch

local_only = pytest.mark.skipif(
    bool(django_settings.ELASTICSEARCH_URL), reason="ELASTICSEARCH_URL is set: tests use that cluster, no local node"
)


@local_only
def test_ensure_reuses_the_running_node(es_node: Elasticsearch) -> None:
    first = node.ensure(log=lambda message: None)

    again = node.ensure(log=lambda message: None)

    assert again == first
    assert node.status().health is not None
    assert es_node.cluster.health()["cluster_name"] == node.CLUSTER_NAME


@local_only
def test_concurrent_callers_share_one_node(es_node: Elasticsearch) -> None:
    # Given several callers at once (threads stand in for processes: the lock is per open file)
    with ThreadPoolExecutor(max_workers=4) as pool:
        states = list(pool.map(lambda _: node.ensure(log=lambda message: None), range(4)))

    # Then they all got the same node
    assert len({(state.pid, state.port) for state in states}) == 1


@local_only
@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the node as a separate user")
def test_as_root_the_node_runs_as_an_unprivileged_user(es_node: Elasticsearch) -> None:
    state = node.status().state
    assert state is not None

    uid = Path(f"/proc/{state.pid}").stat().st_uid

    assert uid != 0
    assert node.pwd.getpwuid(uid).pw_name == node.NODE_USER


@local_only
def test_the_node_has_the_plugin_built_from_the_current_sources(es_node: Elasticsearch) -> None:
    plugins = [plugin for info in es_node.nodes.info(metric="plugins")["nodes"].values() for plugin in info["plugins"]]

    [plugin] = [plugin for plugin in plugins if plugin["name"] == node.PLUGIN_NAME]
    assert plugin["version"] == node.plugin_version()


@local_only
def test_the_node_runs_on_the_chosen_jdk_with_a_search_thread_per_core(es_node: Elasticsearch) -> None:
    jvm = next(iter(es_node.nodes.info(metric="jvm")["nodes"].values()))["jvm"]
    pools = es_node.cat.thread_pool(thread_pool_patterns="search", h="name,size", format="json").body
    assert isinstance(pools, list)

    assert int(jvm["version"].split(".")[0]) == node._java_major(node.find_java_home())
    assert [(pool["name"], int(pool["size"])) for pool in pools] == [("search", os.cpu_count())]


def test_a_state_file_whose_process_is_gone_is_reported_stale(settings: Settings, tmp_path: Path) -> None:
    # Given a state file left by a node that no longer runs
    settings.MAILLAGE_CACHE_DIR = tmp_path
    dead = node.NodeState(
        pid=2**22 + 1, port=9299, home=str(tmp_path), version=node.ES_VERSION, plugin_hash="x", started_at=0.0
    )
    node.state_path().write_text(json.dumps(dead.__dict__))

    status = node.status()

    assert status.state == dead
    assert not status.running
    assert "stale state file" in status.summary


def test_an_unreadable_state_file_counts_as_no_node(settings: Settings, tmp_path: Path) -> None:
    settings.MAILLAGE_CACHE_DIR = tmp_path
    node.state_path().write_text("{not json")

    assert node.read_state() is None
    assert not node.status().running


def test_the_plugin_hash_follows_its_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sources = tmp_path / "src"
    shutil.copytree(node.PLUGIN_SOURCES, sources)
    monkeypatch.setattr(node, "PLUGIN_SOURCES", sources)
    before = node.plugin_hash()

    java_file = next(sources.rglob("Chains.java"))
    java_file.write_text(java_file.read_text() + "\n// changed\n")

    assert node.plugin_hash() != before


def test_every_component_the_analysis_uses_is_declared_by_the_plugin() -> None:
    declared = {name for components in node.named_components().values() for name in components}
    settings_ = analysis.analysis_settings(synonyms=[])
    used = {settings_["filter"][name]["type"] for name in settings_["filter"]}
    for definition in settings_["analyzer"].values():
        used |= {definition["tokenizer"], *definition["filter"]}
    built_in = {"standard", "lowercase"} | set(settings_["filter"])

    assert used - built_in <= declared
    assert analysis.KEYWORD_TOKENIZER in node.named_components()["org.elasticsearch.plugin.analysis.TokenizerFactory"]


@local_only
def test_build_plugin_writes_an_installable_zip(es_node: Elasticsearch, tmp_path: Path) -> None:
    state = node.status().state
    assert state is not None
    output = tmp_path / "maillage-analysis.zip"

    node.build_plugin(output, es_home=Path(state.home), java_home=node.find_java_home(), elasticsearch_version="8.19.0")

    with zipfile.ZipFile(output) as archive:
        names = set(archive.namelist())
        descriptor = archive.read("stable-plugin-descriptor.properties").decode()
        components = json.loads(archive.read("named_components.json"))
    assert {"stable-plugin-descriptor.properties", "named_components.json"} <= names
    assert any(name.startswith("maillage-analysis-") and name.endswith(".jar") for name in names)
    assert "name=maillage-analysis" in descriptor
    assert "elasticsearch.version=8.19.0" in descriptor
    assert "classname" not in descriptor  # stable plugins reject it
    assert components == node.named_components()


def test_java_home_is_a_supported_jdk() -> None:
    java_home = node.find_java_home()

    assert (java_home / "bin" / "javac").is_file()
    assert node._java_major(java_home) in node.SUPPORTED_JAVA_MAJORS


def test_no_jdk_gives_an_actionable_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(node, "DEFAULT_JAVA_HOME", tmp_path / "missing")
    monkeypatch.setattr(node, "JVM_DIR", tmp_path / "jvm")

    with pytest.raises(node.NodeError, match=r"needs a Java 17, 21 or 25 JDK.*apt-get install openjdk-17-jdk-headless"):
        node.find_java_home()


def fake_jdk(home: Path, major: int, *, javac: bool = True) -> Path:
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("")
    if javac:
        (home / "bin" / "javac").write_text("")
    (home / "release").write_text(f'JAVA_VERSION="{major}.0.3"\n')
    return home


def test_the_newest_supported_jdk_is_preferred(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    jvm = tmp_path / "jvm"
    fake_jdk(jvm / "java-17-openjdk-amd64", 17)
    newest = fake_jdk(jvm / "temurin-25-jdk-amd64", 25)
    fake_jdk(jvm / "jdk-26", 26)  # not supported by this Elasticsearch
    fake_jdk(jvm / "temurin-21-jre", 21, javac=False)  # a runtime only
    (jvm / "java-1.17.0-openjdk-amd64").symlink_to(jvm / "java-17-openjdk-amd64")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(node, "JVM_DIR", jvm)
    monkeypatch.setattr(node, "DEFAULT_JAVA_HOME", jvm / "java-17-openjdk-amd64")

    assert node.find_java_home() == newest


def test_java_home_wins_over_newer_jdks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    jvm = tmp_path / "jvm"
    chosen = fake_jdk(jvm / "java-17-openjdk-amd64", 17)
    fake_jdk(jvm / "temurin-25-jdk-amd64", 25)
    monkeypatch.setenv("JAVA_HOME", str(chosen))
    monkeypatch.setattr(node, "JVM_DIR", jvm)

    assert node.find_java_home() == chosen
