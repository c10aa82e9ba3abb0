"""French typography and grammar helpers, and the pages they keep readable."""

from __future__ import annotations

import re

import pytest

from mutualis.lib import french


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Alice Martin", "d'Alice Martin"),
        ("Inès Benali", "d'Inès Benali"),
        ("Hélène Roy", "d'Hélène Roy"),
        ("Dave Durand", "de Dave Durand"),
        ("Zoé", "de Zoé"),
    ],
)
def test_de_is_elided_before_a_vowel_or_an_h(name, expected):
    assert french.de(name) == expected


@pytest.mark.parametrize(("count", "ending"), [(0, ""), (1, ""), (2, "s"), (150, "s")])
def test_zero_and_one_take_the_singular(count, ending):
    assert french.plural(count) == ending


def test_high_punctuation_and_guillemets_get_non_breaking_spaces():
    text = french.typography("Pourquoi ? Voici : « oui » ; bravo !")
    assert text == "Pourquoi\u202f? Voici\u00a0: «\u00a0oui\u00a0»\u202f; bravo\u202f!"
    assert french.typography("12:30, https://exemple.fr/a?b=1") == "12:30, https://exemple.fr/a?b=1"


def test_html_keeps_tags_attributes_and_scripts_as_they_are():
    html = (
        '<p title="Vraiment ?">Sûr ?</p><script>if (a ? b : c) {}</script>'
        "<pre>x : y</pre><p>fin :</p>"
    )
    fixed = french.typography_html(html)
    assert fixed == (
        '<p title="Vraiment ?">Sûr\u202f?</p><script>if (a ? b : c) {}</script>'
        "<pre>x : y</pre><p>fin\u00a0:</p>"
    )


BREAKABLE = re.compile(r"[^\S\u00a0\u202f][?!;:»]|«[^\S\u00a0\u202f]")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/confidentialite/", "/mentions-legales/", "/contact/"])
def test_no_line_of_a_page_can_start_with_high_punctuation(client, url):
    from django.core.management import call_command
    from django.utils.html import strip_tags

    call_command("publish_policy", verbosity=0)
    body = client.get(url).content.decode()
    text = strip_tags(re.sub(r"<(script|style)\b.*?</\1>", "", body, flags=re.S))
    assert not BREAKABLE.findall(text)
