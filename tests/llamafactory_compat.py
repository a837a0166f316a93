"""Load a dataset the way LLaMA-Factory does, with LLaMA-Factory's own code.

Not a test module: a helper for ``test_llamafactory.py``.

The ``llamafactory`` package is installed without its dependencies (see the
Makefile), so importing it normally would fail on torch/transformers/peft. Its
top-level and ``data`` package ``__init__`` files pull those in, but the code
that turns a ``dataset_info.json`` entry and a file into training examples does
not. So this module executes the installed package's real files, by path,
under a private package name (``_llamafactory_by_path``), in dependency order:

=========================  ==========================================================
``extras/logging.py``      real (its only import is ``RUNNING_LOG`` from constants)
``data/data_utils.py``     real (``Role``; imports fsspec and datasets, both present)
``data/parser.py``         real (``DatasetAttr``, ``get_dataset_list``)
``data/converter.py``      real (Alpaca/ShareGPT/OpenAI converters, ``align_dataset``)
``data/processor/*``       real (only because ``loader.py`` imports the classes)
``data/loader.py``         real (``_get_merged_dataset`` -> ``_load_single_dataset``:
                           the file-type check and the ``load_dataset(...)`` call)
``hparams/data_args.py``   real (``DataArguments``, its defaults and ``__post_init__``:
                           ``media_dir`` defaults to ``dataset_dir``)
=========================  ==========================================================

and stubs exactly two modules:

* ``extras/constants.py`` imports peft and transformers for weight-file names.
  The stub holds only the four names the files above import (``DATA_CONFIG``,
  ``FILEEXT2TYPE``, ``IGNORE_INDEX``, ``RUNNING_LOG``), and their values are
  read from the installed ``constants.py`` itself (``ast.literal_eval`` of the
  top-level assignments), so they cannot drift from the pinned version.
* ``extras/misc.py`` imports torch. The stub holds the four names imported
  from it: ``use_modelscope``/``use_openmind`` (parser; same environment-variable
  test as the real ``is_env_enabled``), and ``check_version``/``has_tokenized_data``,
  which only the hub branches and ``get_dataset`` reach: they raise, so a path
  this harness does not model fails loudly instead of being faked.

The package objects (``llamafactory``, ``.extras``, ``.data``, ``.hparams``) are
empty modules with an empty ``__path__``: their real ``__init__`` files are the
heavy imports, and an empty path makes any import not listed above fail with
``ModuleNotFoundError`` naming it (a new version needing another stub shows up
at once). ``model_args``/``training_args`` are plain namespaces holding only the
attributes the loader reads, with the values a default run has.

What LLaMA-Factory would skip silently is caught: its converter logs "Invalid
role tag in ..." / "Invalid message count in ..." then "Skipping this abnormal
example." and yields an empty prompt and response; a handler on its (real)
library logger records every warning it emits while loading.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import logging
import os
import sys
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The version the Makefile installs (``pip install --no-deps llamafactory==...``).
PINNED_VERSION = "0.9.5"

_ROOT = "_llamafactory_by_path"
_loaded: dict[str, types.ModuleType] = {}

SKIP_MARKERS = ("Invalid role tag", "Invalid message count", "Skipping this abnormal example")


class HarnessError(RuntimeError):
    """The harness cannot run LLaMA-Factory's code (not a finding about the data)."""


def _package_dir() -> Path:
    try:
        dist = importlib.metadata.distribution("llamafactory")
    except importlib.metadata.PackageNotFoundError:
        raise HarnessError(
            f"llamafactory is not installed: `make setup` installs it, or run "
            f"`{sys.executable} -m pip install --no-deps llamafactory=={PINNED_VERSION}`"
        ) from None
    if dist.version != PINNED_VERSION:
        raise HarnessError(f"llamafactory {dist.version} is installed, the tests are pinned to {PINNED_VERSION}")
    where = Path(str(dist.locate_file("llamafactory")))
    if not (where / "data" / "converter.py").is_file():
        raise HarnessError(f"llamafactory {dist.version}: no data/converter.py under {where}")
    return where


def _register(name: str, module: types.ModuleType) -> types.ModuleType:
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


def _empty_package(name: str) -> types.ModuleType:
    module = types.ModuleType(name, "stand-in for a llamafactory package whose __init__ imports torch/transformers")
    module.__path__ = []  # nothing is found implicitly: every module below is registered explicitly
    module.__package__ = name
    return _register(name, module)


def _real(name: str, path: Path, package: bool = False) -> types.ModuleType:
    """Execute one installed llamafactory file as module ``name``."""
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[str(path.parent)] if package else None
    )
    module = importlib.util.module_from_spec(spec)
    _register(name, module)
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        raise
    return module


def _constants_stub(real_file: Path) -> types.ModuleType:
    wanted = {"DATA_CONFIG", "FILEEXT2TYPE", "IGNORE_INDEX", "RUNNING_LOG"}
    values: dict[str, Any] = {}
    for node in ast.parse(real_file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in wanted:
                values[node.targets[0].id] = ast.literal_eval(node.value)
    missing = wanted - values.keys()
    if missing:
        raise HarnessError(f"{real_file} no longer assigns {sorted(missing)} as literals")
    module = types.ModuleType(f"{_ROOT}.extras.constants", f"the names the data modules import, read from {real_file}")
    module.__dict__.update(values)
    return module


def _misc_stub() -> types.ModuleType:
    module = types.ModuleType(f"{_ROOT}.extras.misc", "stand-in for extras/misc.py (imports torch)")

    def _env_enabled(var: str) -> bool:  # the real is_env_enabled(var, default="0")
        return os.getenv(var, "0").lower() in ["true", "y", "1"]

    def use_modelscope() -> bool:
        return _env_enabled("USE_MODELSCOPE_HUB")

    def use_openmind() -> bool:
        return _env_enabled("USE_OPENMIND_HUB")

    def check_version(requirement: str, mandatory: bool = False) -> None:
        raise HarnessError(f"check_version({requirement!r}): only the ModelScope/OpenMind hub paths call it; the harness loads local files")

    def has_tokenized_data(path: Any) -> bool:
        raise HarnessError("has_tokenized_data: only get_dataset() calls it; the harness stops at the aligned dataset")

    for fn in (use_modelscope, use_openmind, check_version, has_tokenized_data):
        setattr(module, fn.__name__, fn)
    return module


def llamafactory() -> types.SimpleNamespace:
    """The LLaMA-Factory modules this harness runs (loaded once per process)."""
    if not _loaded:
        pkg = _package_dir()
        for name in (_ROOT, f"{_ROOT}.extras", f"{_ROOT}.data", f"{_ROOT}.hparams"):
            _empty_package(name)
        _register(f"{_ROOT}.extras.constants", _constants_stub(pkg / "extras" / "constants.py"))
        modules = {"logging": _real(f"{_ROOT}.extras.logging", pkg / "extras" / "logging.py")}
        _register(f"{_ROOT}.extras.misc", _misc_stub())
        modules["data_utils"] = _real(f"{_ROOT}.data.data_utils", pkg / "data" / "data_utils.py")
        modules["parser"] = _real(f"{_ROOT}.data.parser", pkg / "data" / "parser.py")
        modules["converter"] = _real(f"{_ROOT}.data.converter", pkg / "data" / "converter.py")
        _real(f"{_ROOT}.data.processor", pkg / "data" / "processor" / "__init__.py", package=True)
        modules["loader"] = _real(f"{_ROOT}.data.loader", pkg / "data" / "loader.py")
        modules["data_args"] = _real(f"{_ROOT}.hparams.data_args", pkg / "hparams" / "data_args.py")
        _loaded.update(modules)  # only once everything loaded
    return types.SimpleNamespace(**_loaded)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class Loaded:
    """What LLaMA-Factory made of one ``dataset_info.json`` entry."""

    attr: Any  #: LLaMA-Factory's DatasetAttr for the entry
    stage: str  #: the training stage it was loaded for (sft, rm, kto)
    examples: list[dict[str, Any]]  #: the aligned examples: _prompt, _response, _system, _tools, _images, ...
    warnings: list[str] = field(default_factory=list)  #: every warning LLaMA-Factory logged while loading

    @property
    def skips(self) -> list[str]:
        """The converter's "Invalid role tag / Invalid message count" warnings: examples it drops."""
        return [w for w in self.warnings if w.startswith(SKIP_MARKERS)]

    @property
    def skipped(self) -> list[int]:
        """Indexes of examples converted to an empty prompt and response (the converter's skip)."""
        return [i for i, ex in enumerate(self.examples) if not ex["_prompt"] and not ex["_response"]]

    @property
    def dropped(self) -> list[int]:
        """Indexes the stage's dataset processor would drop before tokenizing ("Dropped invalid
        example"): supervised needs an odd prompt and exactly one response, pairwise and
        feedback an odd prompt and at least two responses (data/processor/*.py)."""
        bad = []
        for i, ex in enumerate(self.examples):
            odd = len(ex["_prompt"]) % 2 == 1
            n = len(ex["_response"])
            if not odd or (n != 1 if self.stage == "sft" else n < 2):
                bad.append(i)
        return bad

    @property
    def template_problems(self) -> list[str]:
        """What the template would raise on when it formats an example: a message content
        that is not a string (StringFormatter: "Expected a string"), a function-call
        message that is not JSON with name and arguments (FunctionFormatter), tools that
        are not a JSON string (ToolFormatter: json.loads(tools))."""
        problems = []
        for i, ex in enumerate(self.examples):
            for message in list(ex["_prompt"] or []) + list(ex["_response"] or []):
                content = message["content"]
                if not isinstance(content, str):
                    problems.append(f"example {i}: {message['role']} content is {content!r}, not a string")
                elif message["role"] == "function":
                    try:
                        calls = json.loads(content)
                    except json.JSONDecodeError:
                        problems.append(f"example {i}: function call is not JSON: {content!r}")
                        continue
                    calls = calls if isinstance(calls, list) else [calls]
                    if not all(isinstance(c, dict) and "name" in c and "arguments" in c for c in calls):
                        problems.append(f"example {i}: function call lacks name/arguments: {content!r}")
            tools = ex.get("_tools")
            if tools:
                if not isinstance(tools, str):
                    problems.append(f"example {i}: _tools is a {type(tools).__name__}, not a JSON string")
                else:
                    try:
                        json.loads(tools)
                    except json.JSONDecodeError:
                        problems.append(f"example {i}: _tools is not JSON: {tools[:80]!r}")
            if ex.get("_system") is not None and not isinstance(ex["_system"], str):
                problems.append(f"example {i}: _system is {ex['_system']!r}")
        return problems


def entry_for(dataset_dir: Path, file_name: str) -> str | None:
    """The name of the ``dataset_info.json`` entry whose ``file_name`` is ``file_name``."""
    path = Path(dataset_dir) / "dataset_info.json"
    if not path.is_file():
        return None
    names = [n for n, e in json.loads(path.read_text(encoding="utf-8")).items() if e.get("file_name") == file_name]
    assert len(names) <= 1, f"several entries for {file_name}: {names}"
    return names[0] if names else None


def dataset_attr(dataset_dir: Path, name: str) -> Any:
    """LLaMA-Factory's DatasetAttr for entry ``name`` (its parser's ``get_dataset_list``)."""
    return llamafactory().parser.get_dataset_list([name], str(dataset_dir))[0]


def load_like_llamafactory(dataset_dir: Path, name: str, stage: str | None = None) -> Loaded:
    """Load entry ``name`` of ``dataset_dir/dataset_info.json`` as LLaMA-Factory's
    ``get_dataset`` does before tokenizing: parser -> loader (``load_dataset("json",
    data_files=[...], split=...)``) -> converter (``align_dataset``).

    ``stage`` defaults to the one the entry is for (rm if ``ranking``, kto if it names
    ``kto_tag``, else sft); the loader refuses a ranking entry outside rm and the reverse.
    Exceptions LLaMA-Factory raises (``KeyError: 'tools'`` ...) propagate unchanged."""
    lf = llamafactory()
    dataset_dir = Path(dataset_dir)
    attr = dataset_attr(dataset_dir, name)
    if stage is None:
        stage = "rm" if attr.ranking else "kto" if attr.kto_tag else "sft"
    data_args = lf.data_args.DataArguments(dataset=name, dataset_dir=str(dataset_dir), overwrite_cache=True)
    training_args = types.SimpleNamespace(local_process_index=0, dataloader_num_workers=0, seed=42)
    collect = _Collect()
    library_logger = logging.getLogger(_ROOT)
    library_logger.addHandler(collect)
    try:
        with tempfile.TemporaryDirectory(prefix="lf-cache-") as cache:  # fresh cache: the converter always runs
            model_args = types.SimpleNamespace(cache_dir=cache, hf_hub_token=None, ms_hub_token=None, om_hub_token=None)
            dataset = lf.loader._get_merged_dataset([name], model_args, data_args, training_args, stage)
            examples = dataset.to_list()
    finally:
        library_logger.removeHandler(collect)
    return Loaded(attr=attr, stage=stage, examples=examples, warnings=collect.messages)
