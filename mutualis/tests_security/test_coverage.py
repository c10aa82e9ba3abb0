"""Every URL of the resolver is covered by the generated suites or exempted with a reason: a
page added without either fails here, the day it is added (docs/security_suite.md)."""

from django.test import override_settings

from mutualis.tests_security.world import cases, exemptions, routes


def _uncovered() -> tuple[list[str], list[str]]:
    registered = cases() | exemptions()
    unnamed = [route.pattern for route in routes() if not route.name]
    missing = [route.name for route in routes() if route.name and route.name not in registered]
    return unnamed, missing


def test_every_url_is_named_covered_or_exempted():
    unnamed, missing = _uncovered()
    assert not unnamed, f"name these URL patterns (the suites find pages by name): {unnamed}"
    assert not missing, (
        "cover these URLs in the pages.py beside their urls.py, or exempt them with a reason "
        f"(docs/security_suite.md): {missing}"
    )


def test_the_registry_names_only_urls_that_exist():
    names = {route.name for route in routes()}
    stale = sorted(set(cases() | exemptions()) - names)
    assert not stale, f"these pages.py entries name no URL any more: {stale}"


def test_every_exemption_gives_its_reason():
    for name, exemption in exemptions().items():
        assert len(exemption.reason.split()) >= 3, name


@override_settings(ROOT_URLCONF="mutualis.tests_security.urls_with_a_new_page")
def test_a_url_added_without_coverage_is_caught():
    unnamed, missing = _uncovered()
    assert missing == ["backoffice_new:page"] and unnamed == ["/nouveau/sans-nom/"]
