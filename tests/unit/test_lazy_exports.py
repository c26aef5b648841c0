"""Packages that import their heavy names on first use still expose them like plain imports."""

import pytest

import trader.models


def test_a_lazy_name_is_imported_on_first_use_then_kept_in_the_package() -> None:
    vars(trader.models).pop("BaselineMLPConfig", None)  # as if never asked for
    config_class = trader.models.BaselineMLPConfig
    assert config_class.__module__ == "trader.models.configs"
    assert vars(trader.models)["BaselineMLPConfig"] is config_class
    assert {"load", "BaselineMLPConfig"} <= set(dir(trader.models))


def test_an_unknown_name_is_an_attribute_error_naming_the_package() -> None:
    with pytest.raises(AttributeError, match=r"module 'trader\.models' has no attribute 'Nope'"):
        _ = trader.models.Nope  # type: ignore[attr-defined]
