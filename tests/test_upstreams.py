"""How a provider's base_url becomes an Envoy cluster and an upstream path."""

import pytest

from aiplane.upstreams import parse_base_url


@pytest.mark.parametrize(
    ("base_url", "path", "authority", "tls"),
    [
        ("https://api.openai.com/v1", "/v1/chat/completions", "api.openai.com", True),
        ("https://api.groq.com/openai/v1", "/openai/v1/chat/completions", "api.groq.com", True),
        ("http://127.0.0.1:11434", "/v1/chat/completions", "127.0.0.1:11434", False),
        ("http://127.0.0.1:8000/custom/prefix/", "/custom/prefix/v1/chat/completions", "127.0.0.1:8000", False),
        ("https://example.com:8443/v1beta", "/v1beta/chat/completions", "example.com:8443", True),
    ],
)
def test_base_url_path_is_a_prefix_without_repeating_the_version(base_url, path, authority, tls):
    upstream = parse_base_url(base_url)
    assert upstream.api_path("/v1/chat/completions") == path
    assert upstream.authority == authority
    assert upstream.tls is tls


def test_one_cluster_per_scheme_host_and_port():
    assert parse_base_url("https://api.openai.com/v1").cluster_name == parse_base_url("https://API.openai.com").cluster_name
    assert parse_base_url("http://h:1/v1").cluster_name != parse_base_url("http://h:2/v1").cluster_name


@pytest.mark.parametrize("bad", ["ftp://x", "http://", "https://h/v1?x=1", "http://h:notaport"])
def test_unusable_base_urls_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError, match="base_url"):
        parse_base_url(bad)
