"""The clinic's country: a new clinic starts with this PC's locale's; the code is checked."""

import pytest

from needledesk.settings import (
    FALLBACK_COUNTRY,
    ClinicSettings,
    country_problems,
    default_country,
)


@pytest.mark.parametrize(("env", "country"), [
    ({"LANG": "de_DE.UTF-8"}, "DE"),
    ({"LANG": "en_GB"}, "GB"),
    ({"LC_ALL": "pt_BR.UTF-8", "LANG": "en_US.UTF-8"}, "BR"),
    ({"LANG": "sr_RS@latin"}, "RS"),
    ({"LANG": "C.UTF-8"}, FALLBACK_COUNTRY),
    ({"LANG": "POSIX"}, FALLBACK_COUNTRY),
    ({}, FALLBACK_COUNTRY),
])
def test_a_new_clinic_starts_with_the_locales_country(monkeypatch, env, country):
    for key in ("LC_ALL", "LC_TELEPHONE", "LANG"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert default_country() == country
    assert ClinicSettings().country == country


def test_a_country_code_must_be_one_phone_numbers_are_known_for():
    assert country_problems("GB") == [] and country_problems("") == []
    (problem,) = country_problems("UK")
    assert problem.message == "Clinic's country: “UK” is not a country code such as GB, US or DE"
