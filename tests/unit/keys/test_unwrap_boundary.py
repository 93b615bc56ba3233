"""No code path outside the pipeline identity can obtain an unwrapped contributor key.

Three walls, each checked: (1) the import graph — only ``apprentice.keys`` itself, the
pipeline and ``apprentice pipeline`` reach the unwrapping names; (2) the collector process
never loads ``apprentice.keys.unwrap`` and ``create_app`` takes no unwrapper; (3) the
collector refuses the master *private* key as its configured key, and the key it holds
cannot unwrap what it wrapped.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import apprentice
from apprentice.crypto.sealed import generate_key_pair
from apprentice.errors import ConfigError
from apprentice.keys import create_master_key, open_master_wrapper

SRC = Path(apprentice.__file__).parent
UNWRAPPING = {"unwrap_key", "open_master_unwrapper", "PipelineKeyAccess", "LocalMasterUnwrapper",
              "AwsKmsUnwrapper", "load_unwrapper", "apprentice.keys.unwrap"}
ALLOWED = ("apprentice.keys", "apprentice.crypto", "apprentice.pipeline", "apprentice.cli.pipeline_cmd")


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _references(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module in UNWRAPPING:
                found.add(node.module)
            found |= {a.name for a in node.names if a.name in UNWRAPPING}
            if node.module == "apprentice.keys" and any(a.name == "unwrap" for a in node.names):
                found.add("apprentice.keys.unwrap")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in UNWRAPPING}
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in UNWRAPPING:
                found.add(name)
    return found


def test_only_the_pipeline_reaches_the_unwrapping_half() -> None:
    offenders = {}
    for path in SRC.rglob("*.py"):
        module = _module(path)
        refs = _references(ast.parse(path.read_text("utf-8")))
        if refs and not module.startswith(ALLOWED):
            offenders[module] = sorted(refs)
    assert offenders == {}
    # and the walk does find the legitimate users (so it is not vacuous)
    users = {_module(p) for p in SRC.rglob("*.py") if _references(ast.parse(p.read_text("utf-8")))}
    assert "apprentice.pipeline.service.ingest" in users and "apprentice.keys.unwrap" in users


def test_the_collector_process_never_loads_the_unwrapper() -> None:
    code = ("import sys, apprentice.server.app, apprentice.cli.server_cmd, apprentice.cli.keys_cmd, "
            "apprentice.server.keys; "
            "print(sorted(m for m in sys.modules if m.startswith('apprentice.keys')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True)
    loaded = eval(out.stdout)  # a printed list of module names
    assert "apprentice.keys" in loaded and "apprentice.keys.unwrap" not in loaded


def test_create_app_takes_no_unwrapper() -> None:
    from apprentice.server import create_app

    params = inspect.signature(create_app).parameters
    assert not [p for p in params if "unwrap" in p.lower() or "master" in p.lower() or "pipeline" in p]


def test_the_collector_refuses_the_master_private_key(tmp_path: Path) -> None:
    public = create_master_key(tmp_path / "master")
    with pytest.raises(ConfigError, match="private key"):
        open_master_wrapper(f"local://{tmp_path / 'master' / 'master.key'}")
    wrapper = open_master_wrapper(f"local://{public}")
    assert not hasattr(wrapper, "unwrap")
    secret, _ = generate_key_pair()
    wrapped = wrapper.wrap(secret, "c-1", "k")
    assert secret not in wrapped
