"""Settings from a YAML or JSON file, for ``iamwarden evaluate`` and the tests.

Only the CLI reads files: Lambda reads SSM (``iamwarden.adapters.ssm_settings``) and never loads
PyYAML, which is why this lives in the app layer and not beside the settings model.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from iamwarden.domain.exceptions import SettingsError, SettingsProblem
from iamwarden.domain.settings import Settings, load_settings


def load_settings_file(path: str | Path) -> Settings:
    """Load settings from a YAML or JSON file whose nested keys mirror the SSM names."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsError([SettingsProblem(str(file), f"not UTF-8 text: {exc.reason}")]) from exc
    except OSError as exc:
        raise SettingsError([SettingsProblem(str(file), f"cannot read settings file: {exc.strerror}")]) from exc
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except ValueError as exc:
        what = "JSON" if file.suffix.lower() == ".json" else "YAML"
        raise SettingsError([SettingsProblem(str(file), f"not valid {what}: {exc}")]) from exc
    except yaml.YAMLError as exc:
        raise SettingsError([SettingsProblem(str(file), f"not valid YAML: {exc}")]) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsError([SettingsProblem(str(file), "a settings file must hold a mapping of settings")])
    return load_settings(data)
