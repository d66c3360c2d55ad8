"""Config: defaults, validation with useful messages, mapping with upper-case keys."""

from __future__ import annotations

from typing import Any

import pytest

import queryguard
from queryguard import Config, ConfigurationError


def test_defaults() -> None:
    """The documented defaults."""
    config = Config()
    assert config.action == "log"
    assert config.n_plus_one_threshold == 2
    assert config.show_params is False
    assert config.max_events == 10_000


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"action": "explode"}, "'explode'"),
        ({"action_min_severity": "fatal"}, "'info', 'warning', 'error'"),
        ({"n_plus_one_threshold": 1}, "at least 2"),
        ({"n_plus_one_threshold": "3"}, "'3'"),
        ({"max_events": 0}, ">= 1"),
        ({"slow_query_ms": -1}, "-1"),
        ({"slow_query_ms": float("nan")}, "nan"),
        ({"max_queries": True}, "True"),
        ({"show_params": "yes"}, "'yes'"),
        ({"ignore_kinds": ["n_plus_one", "nope"]}, "'nope'"),
        ({"callsite_ignore": [1]}, "list of strings"),
        ({"callback": 42}, "callable"),
    ],
)
def test_invalid_values_name_the_value_and_the_choices(settings: dict[str, Any], needle: str) -> None:
    """A bad value raises ConfigurationError that quotes it."""
    with pytest.raises(ConfigurationError) as info:
        Config(**settings)
    assert needle in str(info.value)


def test_from_mapping_accepts_upper_case_keys() -> None:
    """Django-style upper-case keys map to the fields."""
    config = Config.from_mapping(
        {"ACTION": "raise", "N_PLUS_ONE_THRESHOLD": 5, "IGNORE_KINDS": "select_star"}
    )
    assert (config.action, config.n_plus_one_threshold) == ("raise", 5)
    assert config.ignore_kinds == frozenset({"select_star"})


@pytest.mark.parametrize("values", [{"NOT_A_SETTING": 1}, ["action"], "action=log"])
def test_from_mapping_rejects_unknown_keys_and_non_mappings(values: Any) -> None:
    """Unknown keys and non-mappings are configuration errors, listing the valid settings."""
    with pytest.raises(ConfigurationError):
        Config.from_mapping(values)


def test_capture_accepts_every_field_as_keyword() -> None:
    """capture(**settings) builds its Config from keywords, validated."""
    cap = queryguard.capture(n_plus_one_threshold=3, explain=False)
    assert cap.config.n_plus_one_threshold == 3
    with pytest.raises(ConfigurationError, match="unknown setting 'n_plus_one'"):
        queryguard.capture(n_plus_one=3)


@pytest.mark.parametrize(
    ("keyword", "suggestion"),
    [("n_plus_one_treshold", "n_plus_one_threshold"), ("slow_query", "slow_query_ms"), ("acton", "action")],
)
def test_a_misspelt_setting_names_the_closest_one(keyword: str, suggestion: str) -> None:
    """An unknown keyword says which setting was probably meant."""
    with pytest.raises(
        ConfigurationError, match=rf"unknown setting '{keyword}' \(did you mean '{suggestion}'\?\)"
    ):
        queryguard.capture(**{keyword: 1})
